import { describe, expect, it, vi } from 'vitest';
import type { LiveStatus } from './live-source.js';
import { SseSource } from './sse-source.js';

/** A scripted EventSource: the test opens, fails and closes it, and sends events. */
class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  listeners = new Map<string, (e: { data: string }) => void>();
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(name: string, fn: (e: { data: string }) => void) {
    this.listeners.set(name, fn);
  }
  close() {
    this.closed = true;
    this.readyState = FakeEventSource.CLOSED;
  }
  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  emit(name: string, data: unknown) {
    this.listeners.get(name)?.({ data: JSON.stringify(data) });
  }
}

describe('the event-stream live source', () => {
  it('batches device events, reports status, reopens a closed stream with backoff and asks for a resync', async () => {
    vi.useFakeTimers();
    FakeEventSource.instances = [];
    const statuses: LiveStatus[] = [];
    const batches: number[] = [];
    let resyncs = 0;
    const removed: string[] = [];
    const source = new SseSource({ EventSource: FakeEventSource as unknown as typeof EventSource, backoffMs: 100 });
    source.start({
      devices: (docs) => batches.push(docs.length),
      summary: () => {},
      status: (s) => statuses.push(s),
      resync: () => resyncs++,
      removed: (ids) => removed.push(...ids),
    });
    const first = FakeEventSource.instances[0]!;
    first.open();
    const doc = { id: 'a', name: 'A', status: 'online', lastSeenAt: 'x', updatedAt: 'y', app: 'running', tags: [], openAlerts: [] };
    first.emit('device', doc);
    first.emit('device', { ...doc, id: 'b' });
    first.emit('device', { not: 'a device' });
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toEqual([2]);
    expect(resyncs).toBe(0);
    // a retired device is a device too; a deleted one leaves
    first.emit('device', { ...doc, id: 'c', status: 'retired' });
    first.emit('removed', { id: 'b' });
    first.emit('removed', { nope: 1 });
    await vi.advanceTimersByTimeAsync(20);
    expect(batches).toEqual([2, 1]);
    expect(removed).toEqual(['b']);

    // The server went away and the browser gave up: reopened after the backoff, then a resync.
    first.readyState = FakeEventSource.CLOSED;
    first.onerror?.();
    expect(statuses.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(99);
    expect(FakeEventSource.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeEventSource.instances).toHaveLength(2);
    FakeEventSource.instances[1]!.open();
    expect(statuses).toEqual(['connecting', 'live', 'reconnecting', 'live']);
    expect(resyncs).toBe(1);

    source.stop();
    expect(FakeEventSource.instances[1]!.closed).toBe(true);
    expect(statuses.at(-1)).toBe('stopped');
    vi.useRealTimers();
  });
});

import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StreamSink } from '../../core/route.js';
import type { DeviceDoc } from '../../ports/mirror.js';
import { memoryLogger } from '../logging/logger.js';
import { createNodeServer, type RunningServer } from '../../http/node-server.js';
import { SseMirror } from './sse-mirror.js';

const doc = (i: number) =>
  ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `Lobby kiosk ${i}`,
    status: 'offline',
    lastSeenAt: '2026-12-07T04:00:00.000Z',
  }) as unknown as DeviceDoc;
const wave = (from: number, n: number) => Array.from({ length: n }, (_, i) => doc(from + i));

/** A sink as a host gives it, whose client takes `takes` bytes at most (then stops reading). */
function sink(takes = Infinity) {
  const state = { written: [] as string[], bytes: 0, cut: 0, closers: [] as (() => void)[] };
  const stream: StreamSink = {
    write: (chunk) => {
      state.written.push(chunk);
      state.bytes += chunk.length;
    },
    onClose: (l) => void state.closers.push(l),
    buffered: () => Math.max(0, state.bytes - takes),
    cut: () => {
      state.cut++;
      for (const l of state.closers) l();
    },
  };
  return { stream, state };
}

describe('the standalone live stream', () => {
  it('sends every device document to each console that keeps up', async () => {
    const mirror = new SseMirror();
    const a = sink();
    const b = sink();
    mirror.attach(a.stream);
    mirror.attach(b.stream);
    await mirror.writeDevices(wave(0, 1000));
    for (const s of [a, b]) expect(s.state.written.filter((c) => c.startsWith('event: device')).length).toBe(1000);
    expect(mirror.clients).toBe(2);
  });

  it('cuts off a console that stops reading once it is too far behind, and goes on with the others', async () => {
    const cutOff: number[] = [];
    const mirror = new SseMirror({ maxBehindBytes: 64 * 1024, onCut: (behind) => cutOff.push(behind) });
    const stalled = sink(10_000); // took the first 10 kB, then nothing
    const healthy = sink();
    mirror.attach(stalled.stream);
    mirror.attach(healthy.stream);
    await mirror.writeDevices(wave(0, 5000)); // about 700 kB of events
    expect(stalled.state.cut).toBe(1);
    expect(stalled.state.bytes).toBeLessThan(10_000 + 64 * 1024 + 1024); // nothing more was queued for it
    expect(cutOff).toHaveLength(1);
    expect(cutOff[0]).toBeGreaterThan(64 * 1024);
    expect(mirror.clients).toBe(1);
    expect(healthy.state.written.filter((c) => c.startsWith('event: device')).length).toBe(5000);
  });
});

describe('the live stream over HTTP', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close(100);
    server = undefined;
  });

  it('closes the connection of a console that stopped reading, so the server does not hold a wave of updates for it', async () => {
    const logger = memoryLogger();
    const mirror = new SseMirror({ maxBehindBytes: 1024 * 1024, onCut: (behind) => logger.warn('cut', { behind }) });
    server = createNodeServer(
      async () => ({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: '', stream: (s) => mirror.attach(s) }),
      { logger },
    );
    await new Promise<void>((r) => server!.server.listen(0, '127.0.0.1', r));
    const port = (server.server.address() as AddressInfo).port;
    // a console that connects, reads the first bytes, then stops (a closed laptop, a slow phone link)
    const res = await new Promise<IncomingMessage>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/events' }, (r) => r.once('data', () => (r.pause(), resolve(r)))).end();
    });
    const closed = new Promise<void>((resolve) => res.socket.once('close', () => resolve()));
    for (let i = 0; i < 100_000; i += 500) await mirror.writeDevices(wave(i, 500)); // about 14 MB of events
    await closed;
    expect(mirror.clients).toBe(0);
    expect(logger.lines.filter((l) => l.message === 'cut')).toHaveLength(1);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chooseMode, countsPath, debounceFor, queryPath, sameQuery } from './fleet-mode.js';
import { emptyFilter, type FleetSort } from './fleet-query.js';
import { FleetStore } from './fleet.svelte.js';
import { sampleDoc } from './device-doc.fixture.js';
import type { DeviceDoc } from './types.js';

const SEVERITY: FleetSort = { key: 'status', dir: 'asc' };
const doc = (id: string, over: Partial<DeviceDoc> = {}): DeviceDoc => sampleDoc({ id, name: `dev ${id}`, serial: id, ...over });

describe('choosing the fleet view mode', () => {
  it('keeps the fleet in memory up to the threshold, and asks the server above it', () => {
    expect(chooseMode({ fleetSize: 20_000, serverQueryAbove: 20_000 })).toBe('memory');
    expect(chooseMode({ fleetSize: 20_001, serverQueryAbove: 20_000 })).toBe('server');
    expect(chooseMode({ fleetSize: 0, serverQueryAbove: 0 })).toBe('memory');
    // An older server says nothing: memory, as always.
    expect(chooseMode({})).toBe('memory');
    expect(chooseMode({ fleetSize: 1_000_000 })).toBe('memory');
  });

  it('puts the filter and the order into the query string, leaving empty filters out', () => {
    const f = { ...emptyFilter(), q: '  kiosk ', group: 'North Hall', status: 'offline' as const };
    expect(queryPath(f, { key: 'battery', dir: 'desc' }, 100)).toBe(
      '/admin/fleet/query?q=kiosk&status=offline&group=North+Hall&sort=battery&dir=desc&limit=100',
    );
    expect(queryPath(emptyFilter(), SEVERITY, 300, 'abc')).toBe('/admin/fleet/query?sort=status&dir=asc&limit=300&cursor=abc');
    expect(countsPath(f)).toBe('/admin/fleet/counts?q=kiosk&status=offline&group=North+Hall');
  });

  it('waits for a pause in typing, but not for a menu or a column header', () => {
    const a = { filter: emptyFilter(), sort: SEVERITY };
    expect(debounceFor(undefined, a)).toBe(0);
    expect(debounceFor(a, { filter: { ...emptyFilter(), q: 'k' }, sort: SEVERITY })).toBe(200);
    expect(debounceFor(a, { filter: { ...emptyFilter(), group: 'North' }, sort: SEVERITY })).toBe(0);
    expect(debounceFor(a, { filter: emptyFilter(), sort: { key: 'name', dir: 'asc' } })).toBe(0);
    expect(sameQuery(a, { filter: { ...emptyFilter(), q: '   ' }, sort: SEVERITY })).toBe(true);
    expect(sameQuery(a, { filter: emptyFilter(), sort: { key: 'status', dir: 'desc' } })).toBe(false);
  });
});

describe('the fleet store switching to server mode', () => {
  let calls: string[];
  let answers: Map<string, (url: string) => unknown>;
  const respond = (path: string, body: (url: string) => unknown) => answers.set(path, body);

  beforeEach(() => {
    calls = [];
    answers = new Map();
    vi.stubGlobal('fetch', async (input: string, init?: { signal?: AbortSignal }) => {
      calls.push(input);
      const path = input.replace(/^\/api\/v1/, '').split('?')[0]!;
      const body = answers.get(path);
      if (!body) return new Response(JSON.stringify({ error: { code: 'not_found', message: path } }), { status: 404 });
      await new Promise((r) => setTimeout(r, 0));
      if (init?.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
      return new Response(JSON.stringify(body(input)), { status: 200, headers: { 'content-type': 'application/json' } });
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  const settle = async (ms = 20) => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, ms / 5));
  };

  it('loads every page and stays in memory at or below the threshold', async () => {
    respond('/admin/fleet', (url) =>
      url.includes('cursor=')
        ? { items: [doc('b')], nextCursor: null }
        : { items: [doc('a')], nextCursor: 'c1', fleetSize: 2, serverQueryAbove: 2 },
    );
    const store = new FleetStore();
    store.start({ liveSource: 'none' } as never);
    expect(store.listed).toBe(false);
    await store.reload();
    expect(store.mode).toBe('memory');
    expect(store.size).toBe(2);
    expect(store.listed).toBe(true);
    expect(calls.filter((c) => c.includes('/admin/fleet/query'))).toEqual([]);
    store.stop();
  });

  it('above the threshold, stops loading the fleet and asks the server; typing is debounced and stale answers dropped', async () => {
    // asked with ifSmall, a server above its threshold answers the size alone
    respond('/admin/fleet', (url) =>
      url.includes('ifSmall=true')
        ? { items: [], nextCursor: null, fleetSize: 120, serverQueryAbove: 50 }
        : { items: [doc('a')], nextCursor: 'c1', fleetSize: 120, serverQueryAbove: 50 },
    );
    respond('/admin/fleet/facets', () => ({ groups: ['North'], tags: [], appVersions: [], agentVersions: [], androidVersions: [] }));
    respond('/admin/fleet/counts', () => ({ matched: 120, total: 118, online: 100, offline: 18, alerting: 3, appDown: 2, retired: 2 }));
    respond('/admin/fleet/query', (url) =>
      url.includes('cursor=')
        ? { items: [doc('z')], nextCursor: null }
        : { items: [doc(url.includes('q=') ? 'q1' : url.includes('sort=name') ? 'by-name' : 'x'), doc('y')], nextCursor: 'n1' },
    );
    const store = new FleetStore();
    store.start({ liveSource: 'none' } as never);
    await store.reload();
    expect(store.mode).toBe('server');
    expect(store.size).toBe(0);
    expect(calls.filter((c) => c.startsWith('/api/v1/admin/fleet?'))).toEqual(['/api/v1/admin/fleet?limit=500&ifSmall=true']);

    // the page's other panels wait for the first rows of the server's query
    expect(store.listed).toBe(false);
    store.server.ask(emptyFilter(), SEVERITY);
    await settle();
    expect(store.server.rows.map((d) => d.id)).toEqual(['x', 'y']);
    expect(store.listed).toBe(true);
    expect(store.server.counts.total).toBe(118);
    expect(store.server.facets.groups).toEqual(['North']);

    // Scrolling near the end fetches the next window once.
    await Promise.all([store.server.loadMore(), store.server.loadMore()]);
    expect(store.server.rows.map((d) => d.id)).toEqual(['x', 'y', 'z']);
    expect(calls.filter((c) => c.includes('cursor=n1'))).toHaveLength(1);
    expect(store.server.complete).toBe(true);

    // Live documents patch rows in view, newer wins; others are not added.
    store.apply([doc('y', { battery: 5, updatedAt: '2026-03-10T12:01:00.000Z' }), doc('elsewhere')]);
    expect(store.server.rows.map((d) => [d.id, d.battery])).toEqual([
      ['x', 80],
      ['y', 5],
      ['z', 80],
    ]);

    // Typing: one request after the pause, not one per keystroke.
    const before = calls.filter((c) => c.includes('/admin/fleet/query')).length;
    for (const q of ['k', 'ki', 'kio']) store.server.ask({ ...emptyFilter(), q }, SEVERITY);
    await settle(50);
    expect(calls.filter((c) => c.includes('/admin/fleet/query')).length).toBe(before);
    await settle(300);
    const asked = calls.filter((c) => c.includes('/admin/fleet/query')).slice(before);
    expect(asked).toEqual(['/api/v1/admin/fleet/query?q=kio&sort=status&dir=asc&limit=100']);
    expect(store.server.rows[0]!.id).toBe('q1');

    // A menu change right after another: the first answer is dropped.
    store.server.ask({ ...emptyFilter(), group: 'North' }, SEVERITY);
    store.server.ask({ ...emptyFilter(), group: 'North' }, { key: 'name', dir: 'asc' });
    await settle();
    const last = calls.filter((c) => c.includes('/admin/fleet/query')).slice(-2);
    expect(last).toEqual([
      '/api/v1/admin/fleet/query?group=North&sort=status&dir=asc&limit=100',
      '/api/v1/admin/fleet/query?group=North&sort=name&dir=asc&limit=100',
    ]);
    expect(store.server.rows[0]!.id).toBe('by-name');
    store.stop();
    expect(store.mode).toBe('memory');
  });
});

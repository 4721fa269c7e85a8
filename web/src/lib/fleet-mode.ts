import { qs } from './api.js';
import type { FleetFilter, FleetSort } from './fleet-query.js';

/**
 * The fleet view's two modes (docs/fleet-query.md). Memory: the whole fleet in the browser, filtered
 * and sorted on every keystroke. Server: above the size the server names in its first answer, the
 * server filters, sorts and pages, and the browser holds only the pages scrolled through.
 */
export type FleetMode = 'memory' | 'server';

/** The first answer of GET /admin/fleet carries the fleet's size and the threshold; older servers send neither. */
export function chooseMode(first: { fleetSize?: number | undefined; serverQueryAbove?: number | undefined }): FleetMode {
  if (first.fleetSize === undefined || first.serverQueryAbove === undefined) return 'memory';
  return first.fleetSize > first.serverQueryAbove ? 'server' : 'memory';
}

/** The filter as the server's query parameters (GET /admin/fleet/query and /counts). */
export function filterParams(f: FleetFilter): Record<string, string> {
  return {
    q: f.q.trim(),
    status: f.status,
    group: f.group,
    tag: f.tag,
    alert: f.alert,
    appVersion: f.appVersion,
    agentVersion: f.agentVersion,
    androidVersion: f.androidVersion,
  };
}

export const queryPath = (f: FleetFilter, sort: FleetSort, limit: number, cursor: string | null = null) =>
  `/admin/fleet/query${qs({ ...filterParams(f), sort: sort.key, dir: sort.dir, limit, cursor })}`;

export const countsPath = (f: FleetFilter) => `/admin/fleet/counts${qs(filterParams(f))}`;

/**
 * How long to wait before asking the server for a new filter: typing in the search box waits for a
 * pause; a menu, a card or a column header asks at once.
 */
export function debounceFor(previous: { filter: FleetFilter; sort: FleetSort } | undefined, next: { filter: FleetFilter; sort: FleetSort }, typingMs = 200): number {
  if (!previous) return 0;
  const { q: pq, ...prest } = previous.filter;
  const { q: nq, ...nrest } = next.filter;
  const sameRest = JSON.stringify(prest) === JSON.stringify(nrest) && previous.sort.key === next.sort.key && previous.sort.dir === next.sort.dir;
  return sameRest && pq !== nq ? typingMs : 0;
}

/** The same question again (nothing to fetch): a re-render that changed nothing the server sees. */
export const sameQuery = (a: { filter: FleetFilter; sort: FleetSort } | undefined, b: { filter: FleetFilter; sort: FleetSort }) =>
  a !== undefined && JSON.stringify(filterParams(a.filter)) === JSON.stringify(filterParams(b.filter)) && a.sort.key === b.sort.key && a.sort.dir === b.sort.dir;

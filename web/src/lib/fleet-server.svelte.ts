import { get } from './api.js';
import { countsPath, debounceFor, queryPath, sameQuery } from './fleet-mode.js';
import { newer, type Counts, type FleetFilter, type FleetSort } from './fleet-query.js';
import type { DeviceDoc, Page } from './types.js';

/** The first window is what a screen shows with margin; scrolling near its end fetches the next. */
const FIRST_WINDOW = 100;
const WINDOW = 300;
/** Status cards and the matched count are re-read this often (live documents patch rows, not counts). */
const COUNTS_POLL_MS = 15_000;

export interface Facets {
  groups: string[];
  tags: string[];
  appVersions: string[];
  agentVersions: string[];
  androidVersions: string[];
}
const NO_FACETS: Facets = { groups: [], tags: [], appVersions: [], agentVersions: [], androidVersions: [] };

interface Question {
  filter: FleetFilter;
  sort: FleetSort;
}

/**
 * The fleet view's server mode: the rows of the current filter and order, fetched a window at a
 * time as the table scrolls (keyset cursors), the status cards and the matched count from SQL. A new
 * filter or order cancels the requests of the old one; typing waits for a pause. Live documents
 * patch the rows on screen; the counts are re-read periodically.
 */
export class ServerFleet {
  rows = $state.raw<DeviceDoc[]>([]);
  counts = $state.raw<Counts & { matched: number }>({ matched: 0, total: 0, online: 0, offline: 0, alerting: 0, appDown: 0, retired: 0 });
  facets = $state.raw<Facets>(NO_FACETS);
  /** False until the counts of the first question are in. */
  counted = $state(false);
  /** False until the first window of the current question is in. */
  loaded = $state(false);
  /** True when the last window came back without a cursor. */
  complete = $state(false);
  error = $state<string | null>(null);
  #question: Question | undefined;
  #cursor: string | null = null;
  #abort: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #more: Promise<void> | undefined;
  #index = new Map<string, number>();

  #facetsAsked = false;

  start(): void {
    this.#facetsAsked = false;
    this.#poll = setInterval(() => void this.refreshCounts(), COUNTS_POLL_MS);
  }

  stop(): void {
    clearInterval(this.#poll);
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#question = undefined;
  }

  /** A new filter or order: debounced while typing, stale requests cancelled. */
  ask(filter: FleetFilter, sort: FleetSort): void {
    const next = { filter: { ...filter }, sort: { ...sort } };
    if (sameQuery(this.#question, next)) return;
    const wait = debounceFor(this.#question, next);
    this.#question = next;
    clearTimeout(this.#timer);
    if (wait === 0) void this.#first(next);
    else this.#timer = setTimeout(() => void this.#first(next), wait);
  }

  /** The first window of a question, and its counts alongside. */
  async #first(q: Question): Promise<void> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this.#more = undefined;
    try {
      const page = await get<Page<DeviceDoc>>(queryPath(q.filter, q.sort, FIRST_WINDOW), abort.signal);
      if (abort.signal.aborted) return;
      this.#set(page.items);
      this.#cursor = page.nextCursor;
      this.complete = page.nextCursor === null;
      this.loaded = true;
      this.error = null;
      // The rows first: the counts (a pass over the fleet) and the menus' values do not compete with them.
      void this.refreshCounts();
      if (!this.#facetsAsked) {
        this.#facetsAsked = true;
        void get<Facets>('/admin/fleet/facets').then(
          (f) => (this.facets = f),
          () => (this.#facetsAsked = false),
        );
      }
    } catch (err) {
      if (!abort.signal.aborted) this.error = (err as Error).message;
    }
  }

  /** The next window, when the table scrolls near the end of what it has. */
  loadMore(): Promise<void> {
    if (this.complete || this.#cursor === null || !this.#question) return Promise.resolve();
    this.#more ??= this.#next(this.#question, this.#cursor, this.#abort!).finally(() => (this.#more = undefined));
    return this.#more;
  }

  async #next(q: Question, cursor: string, abort: AbortController): Promise<void> {
    try {
      const page = await get<Page<DeviceDoc>>(queryPath(q.filter, q.sort, WINDOW, cursor), abort.signal);
      if (abort.signal.aborted || this.#cursor !== cursor) return;
      this.#set([...this.rows, ...page.items.filter((d) => !this.#index.has(d.id))]);
      this.#cursor = page.nextCursor;
      this.complete = page.nextCursor === null;
    } catch (err) {
      if (!abort.signal.aborted) this.error = (err as Error).message;
    }
  }

  async refreshCounts(): Promise<void> {
    const q = this.#question;
    if (!q) return;
    try {
      const c = await get<Counts & { matched: number }>(countsPath(q.filter), this.#abort?.signal);
      if (this.#question !== q) return;
      this.counts = c;
      this.counted = true;
    } catch {
      /* the next poll tries again */
    }
  }

  /** Live documents: a row on screen takes the newer document; devices not in view wait for the next query. */
  patch(docs: readonly DeviceDoc[]): void {
    let rows: DeviceDoc[] | undefined;
    for (const doc of docs) {
      const i = this.#index.get(doc.id);
      if (i === undefined || !newer(this.rows[i], doc)) continue;
      rows ??= [...this.rows];
      rows[i] = doc;
    }
    if (rows) this.rows = rows;
  }

  remove(ids: readonly string[]): void {
    const gone = new Set(ids.filter((id) => this.#index.has(id)));
    if (gone.size) this.#set(this.rows.filter((d) => !gone.has(d.id)));
  }

  /** The same question again from the top (after a bulk edit or a reconnect). */
  reload(): void {
    if (this.#question) void this.#first(this.#question);
  }

  #set(rows: DeviceDoc[]): void {
    this.rows = rows;
    this.#index = new Map(rows.map((d, i) => [d.id, i]));
  }
}

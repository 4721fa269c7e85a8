import { get, qs } from './api.js';
import { chooseMode, type FleetMode } from './fleet-mode.js';
import { counts, facets, newer } from './fleet-query.js';
import { ServerFleet } from './fleet-server.svelte.js';
import { FirestoreSource } from './live/firestore-source.js';
import type { LiveSource, LiveStatus } from './live/live-source.js';
import { SseSource } from './live/sse-source.js';
import type { ConsoleConfig, DeviceDoc, FleetSummary, Page } from './types.js';
import { session } from './session.svelte.js';

/** The first page is small so the table shows at once; the rest come in big pages. */
const FIRST_PAGE = 500;
const PAGE = 5000;
/**
 * Live updates are merged at once but shown in batches: every frame for a small fleet, four times a
 * second for a large one, where re-filtering and re-sorting every device costs a few milliseconds.
 */
const LARGE_FLEET = 2000;
const LARGE_FLEET_BATCH_MS = 250;
/** How often devices seen since the last look are re-read: mirror documents are not rewritten on every heartbeat. */
const SEEN_POLL_MS = 60_000;

/**
 * The fleet as the console holds it: every device's mirror document by id. A snapshot over HTTP
 * (GET /api/v1/admin/fleet, 5,000 per page, the first page on screen at once), then live documents
 * merged in as they come, newest wins. Components read `version` to re-derive their views; it moves
 * at most once per batch of live updates.
 */
export class FleetStore {
  readonly #docs = new Map<string, DeviceDoc>();
  /**
   * memory: every device here (below the server's threshold, as it always was); server: the server
   * filters, sorts and pages (fleet-server.svelte.ts), and live documents patch the rows on screen.
   */
  mode = $state<FleetMode>('memory');
  readonly server = new ServerFleet();
  version = $state(0);
  loaded = $state(false);
  complete = $state(false);
  error = $state<string | null>(null);
  live = $state<LiveStatus>('connecting');
  liveDetail = $state('');
  summary = $state.raw<FleetSummary | null>(null);
  /** Time of the last update received over the live connection (for the status tooltip). */
  lastEventAt = $state<number | null>(null);
  #source: LiveSource | undefined;
  #snapshotAt = new Date().toISOString();
  #seenSince: string | undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  #loading: Promise<void> | undefined;
  #bump: ReturnType<typeof setTimeout> | undefined;

  all(): Iterable<DeviceDoc> {
    return this.#docs.values();
  }

  get(id: string): DeviceDoc | undefined {
    return this.#docs.get(id);
  }

  /** Reads `version`, so `{#if fleet.size === 0}` re-renders when the first device arrives (a plain Map is not reactive). */
  get size(): number {
    void this.version;
    return this.#docs.size;
  }

  counts() {
    return counts(this.#docs.values());
  }

  /**
   * The fleet view's first rows are in (or could not be loaded). The page's other panels (the health
   * chart, compliance) ask for theirs after this, so that on a big fleet their passes over the devices
   * do not compete with the first rows.
   */
  get listed(): boolean {
    if (this.error !== null) return true;
    if (!this.loaded) return false;
    return this.mode === 'memory' || this.server.loaded || this.server.error !== null;
  }

  facets() {
    return facets(this.#docs.values());
  }

  /** Loads the snapshot and opens the live connection the deployment uses. */
  start(config: ConsoleConfig): void {
    this.stop();
    this.#source =
      config.liveSource === 'firestore' && config.firebase
        ? new FirestoreSource(
            config.firebase,
            () => this.#snapshotAt,
            () => session.admin?.id,
          )
        : config.liveSource === 'sse'
          ? new SseSource()
          : undefined;
    // Subscribe first, then load: an update racing the snapshot is kept if it is the newer one.
    this.#source?.start({
      devices: (docs) => {
        this.lastEventAt = Date.now();
        this.apply(docs);
      },
      summary: (s) => (this.summary = s),
      removed: (ids) => this.remove(ids),
      status: (status, detail) => {
        this.live = status;
        this.liveDetail = detail ?? '';
      },
      resync: () => void this.reload(),
    });
    if (!this.#source) {
      this.live = 'stopped';
      this.liveDetail = 'This deployment has no live view configured; the list refreshes every minute.';
    }
    void this.reload();
    this.#poll = setInterval(() => void this.#refreshSeen(), SEEN_POLL_MS);
  }

  stop(): void {
    this.server.stop();
    this.mode = 'memory';
    this.#source?.stop();
    this.#source = undefined;
    clearInterval(this.#poll);
    clearTimeout(this.#bump);
    this.#bump = undefined;
    this.#docs.clear();
    this.loaded = false;
    this.complete = false;
    this.version++;
  }

  /** Merges documents (the newer one of a device wins); `now` shows them at once, otherwise batched. */
  apply(docs: readonly DeviceDoc[], now = false): void {
    if (this.mode === 'server') return this.server.patch(docs);
    let changed = false;
    for (const doc of docs) {
      if (newer(this.#docs.get(doc.id), doc)) {
        this.#docs.set(doc.id, doc);
        changed = true;
      }
    }
    if (!changed) return;
    if (now) {
      clearTimeout(this.#bump);
      this.#bump = undefined;
      this.version++;
      return;
    }
    this.#bump ??= setTimeout(
      () => {
        this.#bump = undefined;
        this.version++;
      },
      this.#docs.size > LARGE_FLEET ? LARGE_FLEET_BATCH_MS : 16,
    );
  }

  /** Deleted devices leave at once. */
  remove(ids: readonly string[]): void {
    if (this.mode === 'server') return this.server.remove(ids);
    let changed = false;
    for (const id of ids) changed = this.#docs.delete(id) || changed;
    if (changed) this.version++;
  }

  /** The whole snapshot again (first load, and after a reconnect that may have missed events). */
  reload(): Promise<void> {
    if (this.mode === 'server') {
      this.server.reload();
      return Promise.resolve();
    }
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #load(): Promise<void> {
    const startedAt = new Date().toISOString();
    let cursor: string | null = null;
    try {
      do {
        // The first page only if the fleet is small enough to hold here: above the threshold the server
        // answers its size alone (no page read and thrown away), and this store hands over to server mode.
        const page: Page<DeviceDoc> & { fleetSize?: number; serverQueryAbove?: number } = await get(
          `/admin/fleet${qs(cursor === null ? { limit: FIRST_PAGE, ifSmall: true } : { limit: PAGE, cursor })}`,
        );
        if (cursor === null && chooseMode(page) === 'server') {
          // Too big to hold here: the server filters, sorts and pages; the page asks its question.
          this.#docs.clear();
          this.mode = 'server';
          this.server.start();
          this.#snapshotAt = startedAt;
          this.loaded = true;
          this.complete = true;
          this.error = null;
          this.version++;
          return;
        }
        if (!this.loaded || cursor === null) this.#snapshotAt = startedAt;
        this.apply(page.items, true);
        this.loaded = true;
        cursor = page.nextCursor;
      } while (cursor);
      this.complete = true;
      this.error = null;
      this.#seenSince = this.#serverTime(startedAt);
      if (this.live === 'stopped' && this.#source === undefined) this.version++;
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  /** The server's clock as the newest document says it (documents carry the time they were read), less 5 s. */
  #serverTime(fallback: string): string {
    let newest = '';
    for (const d of this.#docs.values()) if (d.updatedAt > newest) newest = d.updatedAt;
    return newest ? new Date(Date.parse(newest) - 5000).toISOString() : fallback;
  }

  /** Devices heard from since the last look: keeps "last seen" true between mirror writes. */
  async #refreshSeen(): Promise<void> {
    if (!this.complete || !this.#seenSince || this.mode === 'server') return;
    const since = this.#seenSince;
    let serverNow: string | undefined;
    let cursor: string | null = null;
    try {
      do {
        const page: Page<DeviceDoc> = await get(`/admin/fleet${qs({ limit: PAGE, cursor, seenSince: since })}`);
        serverNow ??= page.items[0]?.updatedAt;
        this.apply(page.items);
        cursor = page.nextCursor;
      } while (cursor);
      if (serverNow) this.#seenSince = new Date(Date.parse(serverNow) - 5000).toISOString();
    } catch {
      /* the live status already tells the operator; next minute tries again */
    }
  }
}

export const fleet = new FleetStore();

import type { Clock } from '../core/clock.js';
import { decodeCursor, encodeCursor, isUuid } from '../core/cursor.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { DeviceDoc, Mirror } from '../ports/mirror.js';
import { docRowsOf, fleetPage, summaryCounts, type DocRow } from './fleet-view.repository.js';
import { fleetHealth, rollupEdge } from './fleet-health.repository.js';
import { HEALTH_RANGES, type FleetFilterQuery, type FleetHealthQuery, type FleetQuery, type FleetSortQuery } from './fleet-view.schemas.js';
import {
  facetValues,
  fleetSizeEstimate,
  fleetSizeUpTo,
  matchedCount,
  narrowSearch,
  pageWheres,
  segmentPage,
  segmentsOf,
  statusCounts,
  validKeyValues,
  type QueryTime,
} from './fleet-query.repository.js';
import type { MirrorPolicy } from './fleet-view.repository.js';

export interface MirrorThresholds {
  offlineAfterSec: number;
  frozenAfterMs: number;
}

/** Where the thresholds in force come from: the alert settings (an admin may change them), read as they are. */
export interface ThresholdSource {
  current(): Promise<{ thresholds: { offlineAfterSec: number; frameAgeMs: number } }>;
}

/** What other contexts ask of the live view: the due rule for a time, and publishing. */
export interface LiveView {
  /** The rule heartbeats apply in SQL (fleet-view.repository.ts), as of a time. */
  policy(now: Date): Promise<MirrorPolicy>;
  /** Writes the current documents of these devices. */
  publish(deviceIds: readonly string[]): Promise<void>;
  /** publish(), logging instead of failing. */
  tryPublish(deviceIds: readonly string[]): Promise<void>;
  /** Deleted devices: their documents go. */
  removeDevices(deviceIds: string[]): Promise<void>;
  /** The fleet summary (counts for the header). */
  publishSummary(): Promise<void>;
  /** When a device counts as offline and its app as frozen (alert settings an admin may change). */
  thresholds(): Promise<MirrorThresholds>;
}

/**
 * The live view's read model: keeps the mirror (Firestore, or the standalone event stream) in step
 * with PostgreSQL, and answers the console's fleet snapshot with the same documents, so a snapshot
 * and live updates merge as one. Heartbeats decide in SQL whether a device's document is due
 * (fleet-view.repository.ts); the sweep publishes devices whose alerts or status changed, and the summary.
 */
export class FleetViewService implements LiveView {
  constructor(
    private readonly db: Db,
    private readonly mirror: Mirror,
    private readonly clock: Clock,
    private readonly source: ThresholdSource,
    private readonly refreshSec: number,
    private readonly logger: Logger,
    /** CONSOLE_SERVER_QUERY_ABOVE: the fleet size above which the console queries the server. */
    private readonly serverQueryAbove = 20_000,
  ) {}

  async thresholds(): Promise<MirrorThresholds> {
    const t = (await this.source.current()).thresholds;
    return { offlineAfterSec: t.offlineAfterSec, frozenAfterMs: t.frameAgeMs };
  }

  async policy(now: Date): Promise<MirrorPolicy> {
    const t = await this.thresholds();
    return {
      now,
      offlineCutoff: new Date(now.getTime() - t.offlineAfterSec * 1000),
      refreshBefore: new Date(now.getTime() - this.refreshSec * 1000),
      frozenAfterMs: t.frozenAfterMs,
    };
  }

  async publish(deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    const t = await this.thresholds();
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - t.offlineAfterSec * 1000);
    for (let i = 0; i < deviceIds.length; i += 500) {
      const rows = await docRowsOf(this.db, deviceIds.slice(i, i + 500), t.frozenAfterMs);
      await this.mirror.writeDevices(rows.map((r) => toDoc(r, cutoff, now)));
    }
  }

  async removeDevices(deviceIds: string[]): Promise<void> {
    if (deviceIds.length) await this.mirror.removeDevices(deviceIds);
  }

  async publishSummary(): Promise<void> {
    const t = await this.thresholds();
    const now = this.clock.now();
    const r = await summaryCounts(this.db, new Date(now.getTime() - t.offlineAfterSec * 1000));
    await this.mirror.writeSummary({
      total: r.total,
      online: r.online,
      offline: r.total - r.online,
      alerting: r.alerting,
      appDown: r.app_down,
      retired: r.retired,
      updatedAt: now.toISOString(),
    });
  }

  async tryPublish(deviceIds: readonly string[]): Promise<void> {
    await this.publish(deviceIds).catch((err: unknown) => this.logger.warn('mirror update failed', { count: deviceIds.length, err }));
  }

  /**
   * Online, offline and alerting devices per hour over the range, ending with the current hour (or with
   * the last hour the rollup job has stored: an hour the rollups do not cover yet is left out rather
   * than shown as everyone offline).
   */
  async health(q: FleetHealthQuery) {
    const hour = 3_600_000;
    const now = Math.floor(this.clock.now().getTime() / hour) * hour;
    const from = new Date(now - HEALTH_RANGES[q.range] * hour);
    const edge = await rollupEdge(this.db);
    const to = new Date(Math.max(from.getTime(), Math.min(now, edge ? Math.floor(edge.getTime() / hour) * hour : from.getTime())));
    const hours = to > from ? await fleetHealth(this.db, from, to) : [];
    return {
      range: q.range,
      from: from.toISOString(),
      to: to.toISOString(),
      hours: hours.map((h) => ({ ...h, hour: h.hour.toISOString() })),
    };
  }

  /** The fleet as device documents, a page at a time (the console's snapshot before live updates). */
  async fleet(q: FleetQuery) {
    const afterId = q.cursor === undefined ? undefined : decodeCursor(q.cursor, (c) => (isUuid(c.id) ? c.id : null));
    // The first answer tells the console how big the fleet is, so it can choose its mode.
    const first = afterId === undefined && q.seenSince === undefined;
    const size = first ? await this.#fleetSize() : undefined;
    if (size !== undefined && q.ifSmall && size > this.serverQueryAbove) {
      // the console's server mode holds no page of the whole fleet: none is read
      return { items: [], nextCursor: null, fleetSize: size, serverQueryAbove: this.serverQueryAbove };
    }
    const t = await this.thresholds();
    const now = this.clock.now();
    const rows = await fleetPage(this.db, {
      afterId,
      seenSince: q.seenSince === undefined ? undefined : new Date(q.seenSince),
      limit: q.limit + 1,
      frozenAfterMs: t.frozenAfterMs,
    });
    const items = rows.slice(0, q.limit);
    const cutoff = new Date(now.getTime() - t.offlineAfterSec * 1000);
    return {
      items: items.map((r) => toDoc(r, cutoff, now)),
      nextCursor: rows.length > q.limit ? encodeCursor({ id: items.at(-1)!.id }) : null,
      ...(size !== undefined ? { fleetSize: size, serverQueryAbove: this.serverQueryAbove } : {}),
    };
  }

  async #queryTime(): Promise<QueryTime & { now: Date }> {
    const t = await this.thresholds();
    const now = this.clock.now();
    return { now, onlineCutoff: new Date(now.getTime() - t.offlineAfterSec * 1000), frozenAfterMs: t.frozenAfterMs };
  }

  /**
   * The server mode's page: the filter, the order and a keyset cursor in SQL (fleet-query.repository.ts).
   * The order's segments are read one after another until the page is full.
   */
  async query(q: FleetSortQuery) {
    const t = await this.#queryTime();
    const segments = segmentsOf(q.sort, q.dir, q.status, t, narrowSearch(q.q), q.group);
    const order = `${q.sort}:${q.dir}`;
    let start = 0;
    let after: string[] | undefined;
    if (q.cursor !== undefined) {
      const c = decodeCursor(q.cursor, (v) =>
        v.o === order &&
        Number.isInteger(v.s) &&
        (v.s as number) >= 0 &&
        (v.s as number) < segments.length &&
        validKeyValues(segments[v.s as number]!, v.k)
          ? { s: v.s as number, k: v.k as string[] }
          : null,
      );
      start = c.s;
      after = c.k;
    }
    const wheres = await pageWheres(this.db, q, t);
    if (wheres === null) return { items: [], nextCursor: null };
    const found: { id: string; s: number; key: string[] }[] = [];
    for (let s = start; s < segments.length && found.length <= q.limit; s++) {
      const seg = segments[s]!;
      const rows = await segmentPage(
        this.db,
        seg.alerting ? wheres.alertingWhere : wheres.where,
        seg,
        s === start ? after : undefined,
        q.limit + 1 - found.length,
      );
      for (const r of rows) found.push({ id: r.id, s, key: r.sort_key });
    }
    const page = found.slice(0, q.limit);
    const docs = page.length
      ? await docRowsOf(
          this.db,
          page.map((p) => p.id),
          t.frozenAfterMs,
        )
      : [];
    const byId = new Map(docs.map((r) => [r.id, r]));
    const last = page.at(-1);
    return {
      items: page.flatMap((p) => {
        const r = byId.get(p.id);
        return r ? [toDoc(r, t.onlineCutoff, t.now)] : [];
      }),
      nextCursor: found.length > q.limit && last ? encodeCursor({ o: order, s: last.s, k: last.key }) : null,
    };
  }

  /** The status cards: a pass over the whole fleet, so one count serves every console for a while. */
  readonly #cards = new Kept(
    CARDS_FRESH_MS,
    CARDS_STALE_MS,
    async () => statusCounts(this.db, await this.#queryTime()),
    (err) => this.logger.warn('status cards: count failed', { err }),
    // timed on the service's clock, like the freshness itself (a test's clock stands still meanwhile)
    { costFactor: CARDS_COST_FACTOR, elapsed: () => this.clock.now().getTime() },
  );
  /** The filter menus' values: distinct values over the whole fleet, which change rarely. */
  readonly #facets = new Kept(
    FACETS_FRESH_MS,
    FACETS_STALE_MS,
    () => facetValues(this.db),
    (err) => this.logger.warn('fleet facets: read failed', { err }),
  );

  /**
   * The status cards (the whole fleet) and how many devices the filter matches. The cards do not
   * depend on the filter and cost a pass over the fleet: one count serves every console of this
   * instance for 5 s (longer when the count is expensive: CARDS_COST_FACTOR), and an older one (up to
   * a minute) is answered at once while a new count runs behind it; `asOf` says when they were
   * counted. A filter that is only a status card matches what that card counts, so it costs nothing
   * more; any other filter is counted in SQL.
   */
  async counts(f: FleetFilterQuery) {
    const t = await this.#queryTime();
    const cardsOnly = !f.q?.trim() && !f.group && !f.tag && !f.alert && !f.appVersion && !f.agentVersion && !f.androidVersion;
    const [kept, counted] = await Promise.all([
      this.#cards.get(t.now.getTime()),
      cardsOnly && f.status !== 'duplicates' ? undefined : matchedCount(this.db, f, t),
    ]);
    const cards = kept.value;
    const matched =
      counted ??
      {
        '': cards.total,
        online: cards.online,
        offline: cards.offline,
        alerting: cards.alerting,
        app_down: cards.appDown,
        retired: cards.retired,
      }[f.status as Exclude<FleetFilterQuery['status'], 'duplicates'>];
    return { matched, ...cards, asOf: new Date(kept.at).toISOString() };
  }

  /** The filter menus' values, kept for a minute (10 min answered at once while a new read runs). */
  async facets() {
    const kept = await this.#facets.get(this.clock.now().getTime());
    return { ...kept.value, asOf: new Date(kept.at).toISOString() };
  }

  /**
   * At a server's start, when the fleet is big enough for the console's server mode: the status cards'
   * first count and the filter menus' values are read now, so that the first console opened after a
   * restart or an upgrade does not wait for a pass over the fleet. A smaller fleet (the console's memory
   * mode, which reads neither) costs one bounded count. True when it read them.
   */
  async warm(): Promise<boolean> {
    const cap = this.serverQueryAbove + 1;
    if ((await fleetSizeUpTo(this.db, cap)) < cap) return false;
    const now = this.clock.now().getTime();
    await Promise.all([this.#cards.get(now), this.#facets.get(now)]);
    return true;
  }

  /**
   * Every device, for the console's choice of mode: counted exactly up to the threshold (reading at
   * most that many rows). Above it the console goes to server mode and asks for the status cards next,
   * so their pass starts now; the size answered is theirs when they are at most a minute old, else
   * PostgreSQL's estimate (its statistics), never below the threshold + 1.
   */
  async #fleetSize(): Promise<number> {
    const cap = this.serverQueryAbove + 1;
    const n = await fleetSizeUpTo(this.db, cap);
    if (n < cap) return n;
    const now = this.clock.now().getTime();
    const last = this.#cards.last(now, CARDS_STALE_MS);
    void this.#cards.get(now).catch(() => undefined);
    if (last) return Math.max(cap, last.value.total + last.value.retired);
    return Math.max(cap, await fleetSizeEstimate(this.db));
  }
}

const CARDS_FRESH_MS = 5_000;
/**
 * The cards stay fresh 30 times as long as their last count took: at most a thirtieth of a core on
 * recounting (a million devices: a 0.5 s pass, so every 15 s, the console's own poll), and never a
 * recount competing with every filter a person clicks through (docs/fleet-query.md).
 */
const CARDS_COST_FACTOR = 30;
const CARDS_STALE_MS = 60_000;
const FACETS_FRESH_MS = 60_000;
const FACETS_STALE_MS = 600_000;

/**
 * A value this instance keeps for a while: fresh for `freshMs` (answered as it is), then up to
 * `staleMs` answered at once while one new read runs behind it, then read before answering. One read
 * at a time, whoever asks. With `costFactor`, a value also stays fresh for that many times as long as
 * its last read took, so an expensive read (the status cards' pass over a million devices: 0.5 s) keeps
 * at most 1/costFactor of a core busy however often consoles ask.
 */
export class Kept<T> {
  #last: { at: number; value: T } | undefined;
  #pending: Promise<{ at: number; value: T }> | undefined;
  #lastReadMs = 0;
  /** The clock a read is timed on (milliseconds): the options' own, else the process's monotonic one. */
  readonly #elapsed: () => number;

  constructor(
    private readonly freshMs: number,
    private readonly staleMs: number,
    private readonly read: () => Promise<T>,
    /** A read behind a stale answer failed (the next ask reads again). */
    private readonly failed: (err: unknown) => void,
    private readonly options: { costFactor?: number; elapsed?: () => number } = {},
  ) {
    this.#elapsed = options.elapsed ?? (() => performance.now());
  }

  /** How long the value stays fresh: `freshMs`, or longer when its reads are expensive. */
  get freshFor(): number {
    return Math.max(this.freshMs, Math.min(this.staleMs / 2, (this.options.costFactor ?? 0) * this.#lastReadMs));
  }

  /** The last value read if it is at most `maxAgeMs` old. */
  last(now: number, maxAgeMs: number): { at: number; value: T } | undefined {
    const l = this.#last;
    return l && now >= l.at && now - l.at < maxAgeMs ? l : undefined;
  }

  get(now: number): Promise<{ at: number; value: T }> {
    const fresh = this.last(now, this.freshFor);
    if (fresh) return Promise.resolve(fresh);
    const started = this.#elapsed();
    this.#pending ??= this.read()
      .then((value) => {
        this.#lastReadMs = this.#elapsed() - started;
        return (this.#last = { at: now, value });
      })
      .finally(() => (this.#pending = undefined));
    const stale = this.last(now, this.staleMs);
    if (!stale) return this.#pending;
    this.#pending.catch(this.failed);
    return Promise.resolve(stale);
  }
}

/** The live document of a device, for the mirror and the fleet snapshot alike. */
export function toDoc(r: DocRow, onlineCutoff: Date, now: Date): DeviceDoc {
  return {
    id: r.id,
    name: r.name,
    model: r.model,
    serial: r.serial,
    group: r.group_name,
    tags: r.tags,
    status: r.lifecycle !== 'active' ? r.lifecycle : r.last_seen_at >= onlineCutoff ? 'online' : 'offline',
    lastSeenAt: r.last_seen_at.toISOString(),
    battery: r.battery_level === null ? null : Math.floor(r.battery_level / 5) * 5,
    charging: r.battery_charging,
    app: r.app,
    appVersionName: r.app_version_name,
    appVersionCode: r.app_version_code === null ? null : Number(r.app_version_code),
    agentVersion: r.agent_version,
    androidVersion: r.android_version,
    openAlerts: r.open_alerts,
    updatedAt: now.toISOString(),
  };
}

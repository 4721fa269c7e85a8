import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from '../../ports/db.js';
import type { Logger } from '../../ports/logger.js';
import type { DeviceDoc, FleetSummary, Mirror } from '../../ports/mirror.js';

/** The channel every instance of one database listens on. */
export const LIVE_CHANNEL = 'fleet_live';

/** NOTIFY payloads must stay under 8000 bytes; documents are sent in chunks below this. */
const MAX_PAYLOAD_BYTES = 7500;

type LiveMessage = { from: string; devices: DeviceDoc[] } | { from: string; summary: FleetSummary } | { from: string; removed: string[] };

export interface PgNotifyMirrorOptions {
  db: Db;
  /** Where the LISTEN connection goes (the same database as `db`). */
  url: string;
  logger: Logger;
  instanceId?: string;
  /** First reconnection delay; doubles up to 30 s. */
  retryMs?: number;
}

/**
 * The live view across instances on one PostgreSQL database: what one instance writes to its mirror
 * reaches the consoles connected to every instance. A write goes to this instance's own clients at
 * once and is sent with NOTIFY on LIVE_CHANNEL (the documents themselves, in chunks under the 8000-byte
 * payload limit); a dedicated LISTEN connection hands the other instances' writes to the local
 * clients and ignores this instance's own. The LISTEN connection reconnects with backoff; while it is
 * down this instance's consoles miss other instances' changes (the console reloads the list when its
 * stream reconnects). PGlite is one process: it needs none of this.
 */
export class PgNotifyMirror implements Mirror {
  readonly instanceId: string;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;

  constructor(
    private readonly local: Mirror,
    private readonly options: PgNotifyMirrorOptions,
  ) {
    this.instanceId = options.instanceId ?? randomUUID();
    this.#retryMs = options.retryMs ?? 500;
  }

  /** Opens the LISTEN connection; resolves once it listens (or failed once and is retrying). */
  start(): Promise<void> {
    return (this.#ready ??= this.#connect());
  }

  async writeDevices(docs: DeviceDoc[]): Promise<void> {
    await this.local.writeDevices(docs);
    let chunk: DeviceDoc[] = [];
    let size = 0;
    for (const doc of docs) {
      const bytes = Buffer.byteLength(JSON.stringify(doc)) + 1;
      if (chunk.length && size + bytes > MAX_PAYLOAD_BYTES) {
        await this.#notify({ from: this.instanceId, devices: chunk });
        chunk = [];
        size = 0;
      }
      chunk.push(doc);
      size += bytes;
    }
    if (chunk.length) await this.#notify({ from: this.instanceId, devices: chunk });
  }

  async writeSummary(summary: FleetSummary): Promise<void> {
    await this.local.writeSummary(summary);
    await this.#notify({ from: this.instanceId, summary });
  }

  async removeDevices(ids: string[]): Promise<void> {
    await this.local.removeDevices(ids);
    // 36-character ids: 150 of them stay well under the payload limit
    for (let i = 0; i < ids.length; i += 150) await this.#notify({ from: this.instanceId, removed: ids.slice(i, i + 150) });
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#client?.end().catch(() => {});
    this.#client = undefined;
  }

  async #notify(message: LiveMessage): Promise<void> {
    try {
      await sql`select pg_notify(${LIVE_CHANNEL}, ${JSON.stringify(message)})`.execute(this.options.db);
    } catch (err) {
      // the local consoles have it; the others catch up on their next reload
      this.options.logger.warn('live event not sent to the other instances', { err });
    }
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.options.url });
    let failed = false;
    const retry = (err: unknown) => {
      if (failed) return; // 'error' and 'end' both come for one failure
      failed = true;
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      if (this.#closed) return;
      this.options.logger.warn('live event listener disconnected; reconnecting', { err, inMs: this.#retryMs });
      this.#timer = setTimeout(() => void this.#connect(), this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, 30_000);
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('connection ended')));
    client.on('notification', (n) => {
      if (n.channel !== LIVE_CHANNEL || !n.payload) return;
      this.#deliver(n.payload).catch((err: unknown) => this.options.logger.warn('live event from another instance dropped', { err }));
    });
    try {
      this.#client = client;
      await client.connect();
      await client.query(`listen ${LIVE_CHANNEL}`);
      this.#retryMs = this.options.retryMs ?? 500;
    } catch (err) {
      retry(err);
    }
  }

  async #deliver(payload: string): Promise<void> {
    const message = JSON.parse(payload) as LiveMessage;
    if (message.from === this.instanceId) return;
    if ('devices' in message) await this.local.writeDevices(message.devices);
    else if ('removed' in message) await this.local.removeDevices(message.removed);
    else await this.local.writeSummary(message.summary);
  }
}

import type { Clock } from '../core/clock.js';
import { decrypt } from '../core/crypto.js';
import type { Db } from '../ports/db.js';
import type { NewCommandDispatch } from '../ports/schema.generated.js';
import type { Logger } from '../ports/logger.js';
import { MAX_PUSH_BATCH, type Push, type PushMessage, type PushOutcome } from '../ports/push.js';
import { cancelPushTargets } from './cancel.repository.js';
import { claimForPush, insertDispatches, markPushed, markTokensInvalid, staleBatches, type ClaimedCommand } from './commands.repository.js';
import { signEnvelope, unixSeconds } from './envelope.js';

export interface DispatcherOptions {
  encryptionKey: Buffer;
  /** Attempts per message for quota and server errors. */
  maxAttempts: number;
  /** First retry delay; doubles each attempt, with jitter. */
  backoffMs: number;
  /** sendEach calls in flight at once. */
  concurrency: number;
}

export interface DispatchReport {
  claimed: number;
  sent: number;
  unregistered: number;
  noToken: number;
  failed: number;
  pushUnavailable: number;
}

interface Outgoing {
  command: ClaimedCommand;
  message: PushMessage;
}

/** A claim older than this is taken over: the dispatcher that held it died before pushing. */
export const STALE_CLAIM_MS = 2 * 60_000;

/** Stale batches taken over per tick (the rest wait for the next one). */
const STALE_BATCHES_PER_TICK = 100;

/**
 * Signs and pushes one batch of commands. Runs from the Pub/Sub trigger (Firebase) or the in-process
 * queue (standalone), so it must survive being run twice for one batch: it claims commands in SQL
 * first, never pushes one that FCM already accepted, and retries only what failed for quota or
 * server reasons. Whatever it cannot push stays queued for the device's next heartbeat.
 */
export class CommandDispatcher {
  constructor(
    private readonly db: Db,
    private readonly push: Push,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {}

  async dispatchBatch(batchId: string): Promise<DispatchReport> {
    const now = this.clock.now();
    const claimed = await claimForPush(this.db, batchId, now, new Date(now.getTime() - STALE_CLAIM_MS));
    const report: DispatchReport = { claimed: claimed.length, sent: 0, unregistered: 0, noToken: 0, failed: 0, pushUnavailable: 0 };
    if (claimed.length === 0) return report;
    if (!this.push.available) {
      await this.record(claimed.map((c) => row(c, now, 1, 'push_unavailable')));
      report.pushUnavailable = claimed.length;
      return report;
    }

    const keys = new Map<string, Buffer>();
    const outgoing: Outgoing[] = [];
    const noToken: NewCommandDispatch[] = [];
    for (const c of claimed) {
      if (!c.fcm_token || c.fcm_token_invalid_at) {
        noToken.push(row(c, now, 1, 'no_token'));
        continue;
      }
      let key = keys.get(c.device_id);
      if (!key) keys.set(c.device_id, (key = decrypt(this.options.encryptionKey, c.hmac_key_enc)));
      const data = signEnvelope(key, {
        cid: c.id,
        did: c.device_id,
        type: c.type,
        params: c.params,
        iat: unixSeconds(c.created_at),
        exp: unixSeconds(c.expires_at),
      });
      outgoing.push({ command: c, message: { token: c.fcm_token, data, ttlSec: unixSeconds(c.expires_at) - unixSeconds(now) } });
    }
    await this.record(noToken);
    report.noToken = noToken.length;

    let pending = outgoing;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const outcomes = await this.sendAll(pending.map((o) => o.message));
      const at = this.clock.now();
      const retry: Outgoing[] = [];
      const rows: NewCommandDispatch[] = [];
      const sent: string[] = [];
      const dead: { deviceId: string; token: string }[] = [];
      outcomes.forEach((outcome, i) => {
        const o = pending[i]!;
        if (outcome.ok) {
          sent.push(o.command.id);
          rows.push({ ...row(o.command, at, attempt, 'sent'), message_id: outcome.messageId });
        } else if (outcome.kind === 'unregistered') {
          dead.push({ deviceId: o.command.device_id, token: o.message.token });
          rows.push({ ...row(o.command, at, attempt, 'unregistered'), error: outcome.error });
        } else if (outcome.kind === 'retryable' && attempt < this.options.maxAttempts) {
          retry.push(o);
          rows.push({ ...row(o.command, at, attempt, 'retrying'), error: outcome.error });
        } else {
          rows.push({ ...row(o.command, at, attempt, 'failed'), error: outcome.error });
        }
      });
      await this.db.transaction().execute(async (trx) => {
        await markPushed(trx, sent, at);
        await markTokensInvalid(trx, dead, at);
        await insertDispatches(trx, rows);
      });
      report.sent += sent.length;
      report.unregistered += dead.length;
      report.failed += rows.filter((r) => r.outcome === 'failed').length;
      pending = retry;
      if (retry.length) {
        const delay = this.options.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2);
        this.logger.warn('push quota or server error; retrying', { batchId, count: retry.length, attempt, delayMs: Math.round(delay) });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    return report;
  }

  /**
   * The tick's takeover: pushes the batches whose claim went stale or that were never claimed, so a
   * batch claimed by an instance that died is pushed by the next tick anywhere, not only handed out
   * with the devices' next heartbeats. Returns the reports summed.
   */
  async dispatchStale(): Promise<DispatchReport> {
    const total: DispatchReport = { claimed: 0, sent: 0, unregistered: 0, noToken: 0, failed: 0, pushUnavailable: 0 };
    if (!this.push.available) return total; // without push, heartbeats carry the commands
    const now = this.clock.now();
    const batches = await staleBatches(this.db, now, new Date(now.getTime() - STALE_CLAIM_MS), STALE_BATCHES_PER_TICK);
    for (const batchId of batches) {
      const r = await this.dispatchBatch(batchId);
      for (const k of Object.keys(total) as (keyof DispatchReport)[]) total[k] += r[k];
    }
    if (total.claimed) this.logger.info('stale push claims taken over', { batches: batches.length, ...total });
    return total;
  }

  /**
   * Tells devices that may hold these commands that they were cancelled: a signed envelope of type
   * CANCEL whose cid is the cancelled command (params "{}", iat now, exp the command's expiry), one
   * attempt, no bookkeeping - heartbeat answers name the cancel until the device answers, so a lost
   * push costs only time. Returns how many were accepted.
   */
  async pushCancels(commandIds: string[]): Promise<number> {
    if (!this.push.available || commandIds.length === 0) return 0;
    const now = this.clock.now();
    const rows = (await cancelPushTargets(this.db, commandIds)).filter((r) => r.fcm_token && !r.fcm_token_invalid_at && r.expires_at > now);
    const messages = rows.map((r) => {
      const data = signEnvelope(decrypt(this.options.encryptionKey, r.hmac_key_enc), {
        cid: r.id,
        did: r.device_id,
        type: 'CANCEL',
        params: '{}',
        iat: unixSeconds(now),
        exp: unixSeconds(r.expires_at),
      });
      return { token: r.fcm_token!, data, ttlSec: unixSeconds(r.expires_at) - unixSeconds(now) };
    });
    if (messages.length === 0) return 0;
    const outcomes = await this.sendAll(messages);
    return outcomes.filter((o) => o.ok).length;
  }

  /** sendEach in chunks of 500, a few chunks in flight at once; outcomes in message order. */
  private async sendAll(messages: PushMessage[]): Promise<PushOutcome[]> {
    const chunks: PushMessage[][] = [];
    for (let i = 0; i < messages.length; i += MAX_PUSH_BATCH) chunks.push(messages.slice(i, i + MAX_PUSH_BATCH));
    const results: PushOutcome[][] = new Array(chunks.length);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const i = next++;
        results[i] = await this.push.send(chunks[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, chunks.length) }, worker));
    return results.flat();
  }

  private async record(rows: NewCommandDispatch[]): Promise<void> {
    if (rows.length) await insertDispatches(this.db, rows);
  }
}

function row(c: ClaimedCommand, at: Date, attempt: number, outcome: NewCommandDispatch['outcome']): NewCommandDispatch {
  return { command_id: c.id, at, channel: 'fcm', attempt, outcome };
}

import { randomUUID } from 'node:crypto';
import type { AuditService, RolloutChange } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import { AppError, badRequest, conflict, notFound } from '../core/errors.js';
import type { StaffActor } from '../core/route.js';
import type { Db } from '../ports/db.js';
import type { RolloutEngine } from './rollouts.engine.js';
import { waveCuts } from './rollouts.gate.js';
import * as repo from './rollouts.repository.js';
import type { CreateRolloutInput, RolloutState, RolloutView } from './rollouts.schemas.js';

/** A catalog release as the rollouts see it. */
export interface ReleaseInfo {
  id: string;
  packageName: string;
  versionCode: number;
  bad: unknown;
}

const LIVE: RolloutState[] = ['draft', 'running', 'paused'];

/** Operators' rollouts: create, start, pause, resume, promote, abort, roll back, and read them. Each change audited. */
export class RolloutService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly releases: { get(id: string): Promise<ReleaseInfo> },
    private readonly engine: RolloutEngine,
  ) {}

  async create(actor: StaffActor, input: CreateRolloutInput, ip: string): Promise<RolloutView> {
    const from = await this.release(input.fromReleaseId);
    const to = await this.release(input.toReleaseId);
    if (from.packageName !== to.packageName) {
      throw badRequest('package_mismatch', `release A is ${from.packageName}, release B is ${to.packageName}: a rollout moves one package`);
    }
    if (to.bad) throw conflict('release_bad', `release ${to.id} is marked bad and is never installed`);
    if (to.versionCode === from.versionCode) throw badRequest('same_version', `both releases are versionCode ${to.versionCode}`);
    if (to.versionCode < from.versionCode && !input.allowDowngrade) {
      throw badRequest(
        'downgrade_not_allowed',
        `B (${to.versionCode}) is lower than A (${from.versionCode}); set "allowDowngrade": true to roll out a downgrade`,
      );
    }
    const kinds = new Set(input.waves.map((w) => ('percent' in w ? 'percent' : 'count')));
    if (kinds.size > 1) throw badRequest('invalid_waves', 'waves are all {percent} or all {count}');
    const percents = input.waves.flatMap((w) => ('percent' in w ? [w.percent] : []));
    if (percents.some((p, i) => i > 0 && p <= percents[i - 1]!)) {
      throw badRequest('invalid_waves', 'wave percents are cumulative: each one larger than the one before (e.g. 1, 10, 50, 100)');
    }
    const groupId = input.group === undefined ? null : await repo.findGroupId(this.db, input.group);
    if (groupId === undefined) throw new AppError(404, 'group_not_found', `no group ${input.group}`);
    const id = randomUUID();
    const now = this.clock.now();
    try {
      await this.db.transaction().execute(async (trx) => {
        await repo.insertRollout(trx, {
          id,
          name: input.name,
          packageName: to.packageName,
          from: { id: from.id, versionCode: from.versionCode },
          to: { id: to.id, versionCode: to.versionCode },
          groupId,
          allowDowngrade: input.allowDowngrade,
          rollbackOnFailure: input.rollbackOnFailure,
          soakSec: input.soakSec,
          installTimeoutSec: input.installTimeoutSec,
          margin: input.margin,
          createdBy: actor.kind === 'admin' ? actor.id : null,
          at: now,
          waves: input.waves.map((w) => ('percent' in w ? { kind: 'percent', value: w.percent } : { kind: 'count', value: w.count })),
        });
        await this.record(trx, actor, id, 'created', input.name, ip, { from: from.id, to: to.id });
        if (input.start) await this.startIn(trx, actor, id, ip);
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw conflict(
          'rollout_exists',
          `${to.packageName} already has a draft, running or paused rollout for this ${input.group ? 'group' : 'fleet'}`,
        );
      }
      throw err;
    }
    return this.get(id);
  }

  /** Draft -> running: the devices on A are assigned to waves now, in stable hash order. */
  async start(actor: StaffActor, id: string, ip: string): Promise<RolloutView> {
    await this.db.transaction().execute((trx) => this.startIn(trx, actor, id, ip));
    return this.get(id);
  }

  private async startIn(trx: Db, actor: StaffActor, id: string, ip: string): Promise<void> {
    const r = await this.locked(trx, id);
    if (r.state !== 'draft') throw conflict('invalid_state', `the rollout is ${r.state}; only a draft starts`);
    const total = await repo.countEligible(trx, r, this.engine.agentPackage);
    if (total === 0)
      throw conflict(
        'no_devices',
        `no active device${r.group_name ? ` in ${r.group_name}` : ''} reports ${r.package_name} ${r.from_version_code}`,
      );
    const waves = await repo.listWaves(trx, [id]);
    await repo.assignDevices(
      trx,
      r,
      waveCuts(
        waves.map((w) => ({ kind: w.size_kind, value: w.size_value })),
        total,
      ),
      this.engine.agentPackage,
    );
    await repo.setRolloutState(trx, id, ['draft'], 'running', this.clock.now(), { currentWave: 0, started: true, pausedReason: null });
    await this.record(trx, actor, id, 'started', r.name, ip);
  }

  async pause(actor: StaffActor, id: string, reason: string | undefined, ip: string) {
    return this.transition(
      actor,
      id,
      ['running'],
      'paused',
      'paused',
      ip,
      { pausedReason: `paused by ${actor.name}${reason ? `: ${reason}` : ''}` },
      reason,
    );
  }

  async resume(actor: StaffActor, id: string, ip: string) {
    return this.change(id, async (trx, r) => {
      if (r.state !== 'paused') throw conflict('invalid_state', `the rollout is ${r.state}; only a paused one resumes`);
      const [wave] = (await repo.listWaves(trx, [id])).filter((w) => w.idx === r.current_wave);
      if (wave?.state === 'failed') {
        throw conflict('gate_failed', `wave ${wave.idx + 1} failed its gate: promote it to go on anyway, or roll back or abort`);
      }
      await repo.setRolloutState(trx, id, ['paused'], 'running', this.clock.now(), { pausedReason: null });
      await this.record(trx, actor, id, 'resumed', r.name, ip);
    });
  }

  /** The current wave passes now (its soak or failed gate skipped, by a person); the rollout runs on. */
  async promote(actor: StaffActor, id: string, reason: string | undefined, ip: string) {
    const view = await this.change(id, async (trx, r) => {
      if (r.state !== 'running' && r.state !== 'paused')
        throw conflict('invalid_state', `the rollout is ${r.state}; it cannot be promoted`);
      const [wave] = (await repo.listWaves(trx, [id])).filter((w) => w.idx === r.current_wave);
      if (!wave || !['installing', 'soaking', 'failed'].includes(wave.state)) {
        throw conflict(
          'nothing_to_promote',
          `wave ${(r.current_wave ?? 0) + 1} is ${wave?.state ?? 'missing'}: only an installing, soaking or failed wave is promoted`,
        );
      }
      const now = this.clock.now();
      await repo.setWaveState(trx, id, wave.idx, [wave.state], 'passed', now, ['running', 'paused'], {
        passed: true,
        at: now.toISOString(),
        promotedBy: actor.name,
        reasons: [`promoted by ${actor.name}${reason ? `: ${reason}` : ''}`],
      });
      await repo.setRolloutState(trx, id, ['running', 'paused'], 'running', now, { pausedReason: null });
      await this.record(trx, actor, id, 'promoted', r.name, ip, { wave: wave.idx, reason });
    });
    const r = await repo.getRollout(this.db, id);
    if (r?.state === 'running') await this.engine.next(r, r.current_wave!, this.clock.now());
    return view.state === 'running' ? this.get(id) : view;
  }

  async abort(actor: StaffActor, id: string, reason: string | undefined, ip: string) {
    return this.transition(actor, id, LIVE, 'aborted', 'aborted', ip, { finished: true }, reason);
  }

  /** Every device sent B is sent A again (INSTALL_APK with allowDowngrade when A is lower); the rollout ends. */
  async rollback(actor: StaffActor, id: string, reason: string | undefined, ip: string) {
    const view = await this.change(id, async (trx, r) => {
      if (!['running', 'paused', 'completed'].includes(r.state))
        throw conflict('invalid_state', `the rollout is ${r.state}; it cannot be rolled back`);
      const now = this.clock.now();
      await repo.setRolloutState(trx, id, ['running', 'paused', 'completed'], 'rolled_back', now, { finished: true });
      // a completed rollout had moved its scope's policy to B: it names A again
      if (r.state === 'completed') await this.engine.movePolicy(trx, r, 'back');
      const n = await repo.requestRollback(trx, id, null, now);
      await this.record(trx, actor, id, 'rolled_back', r.name, ip, { reason: reason ?? `${n} device(s) to roll back` });
    });
    const r = await repo.getRollout(this.db, id);
    if (r) await this.engine.send(r, 'rollback');
    return view.state === 'rolled_back' ? this.get(id) : view;
  }

  async list(q: { limit: number; state?: RolloutState | undefined }) {
    const rows = await repo.listRollouts(this.db, q);
    return { items: await this.views(rows), nextCursor: null };
  }

  async get(id: string): Promise<RolloutView> {
    const r = await repo.getRollout(this.db, id);
    if (!r) throw notFound('rollout');
    return (await this.views([r]))[0]!;
  }

  private async views(rows: repo.RolloutRow[]): Promise<RolloutView[]> {
    const waves = await repo.listWaves(
      this.db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => {
      const mine = waves.filter((w) => w.rollout_id === r.id);
      return {
        id: r.id,
        name: r.name,
        packageName: r.package_name,
        from: { releaseId: r.from_release_id, versionCode: r.from_version_code },
        to: { releaseId: r.to_release_id, versionCode: r.to_version_code },
        group: r.group_name,
        state: r.state,
        currentWave: r.current_wave,
        pausedReason: r.paused_reason,
        soakSec: r.soak_sec,
        installTimeoutSec: r.install_timeout_sec,
        margin: r.margin,
        rollbackOnFailure: r.rollback_on_failure,
        allowDowngrade: r.allow_downgrade,
        devices: mine.reduce((n, w) => n + w.device_count, 0),
        createdAt: r.created_at.toISOString(),
        createdBy: r.created_by_email,
        startedAt: r.started_at?.toISOString() ?? null,
        finishedAt: r.finished_at?.toISOString() ?? null,
        waves: mine.map((w) => {
          const decided = w.state === 'passed' || w.state === 'failed';
          return {
            index: w.idx,
            size: w.size_kind === 'percent' ? { percent: w.size_value } : { count: w.size_value },
            state: w.state,
            devices: w.device_count,
            pending: decided ? 0 : w.pending,
            updated: w.updated,
            failed: decided ? w.device_count - w.updated : 0,
            rollbackSent: w.rollback_sent,
            rolledBack: w.rolled_back,
            installingAt: w.installing_at?.toISOString() ?? null,
            soakingAt: w.soaking_at?.toISOString() ?? null,
            decidedAt: w.decided_at?.toISOString() ?? null,
            verdict: w.verdict,
          };
        }),
      };
    });
  }

  private async release(id: string): Promise<ReleaseInfo> {
    try {
      return await this.releases.get(id);
    } catch (err) {
      if (err instanceof AppError && err.status === 404) throw new AppError(404, 'release_not_found', `no release ${id} in the catalog`);
      throw err;
    }
  }

  private async locked(trx: Db, id: string) {
    const r = await repo.getRollout(trx, id, true);
    if (!r) throw notFound('rollout');
    return r;
  }

  private async change(id: string, run: (trx: Db, r: repo.RolloutRow) => Promise<void>): Promise<RolloutView> {
    await this.db.transaction().execute(async (trx) => run(trx, await this.locked(trx, id)));
    return this.get(id);
  }

  private transition(
    actor: StaffActor,
    id: string,
    from: RolloutState[],
    to: RolloutState,
    change: RolloutChange,
    ip: string,
    extra: Parameters<typeof repo.setRolloutState>[5],
    reason?: string,
  ) {
    return this.change(id, async (trx, r) => {
      if (!from.includes(r.state)) throw conflict('invalid_state', `the rollout is ${r.state}; it cannot be ${change.replace('_', ' ')}`);
      await repo.setRolloutState(trx, id, from, to, this.clock.now(), extra);
      await this.record(trx, actor, id, change, r.name, ip, { reason });
    });
  }

  private record(
    trx: Db,
    actor: StaffActor,
    id: string,
    change: RolloutChange,
    name: string,
    ip: string,
    more: { from?: string; to?: string; wave?: number; reason?: string | undefined } = {},
  ) {
    return this.audit.record(
      trx,
      actor,
      { action: 'changed_rollout', target: { type: 'rollout', id }, details: { change, name, ...more } },
      ip,
    );
  }
}

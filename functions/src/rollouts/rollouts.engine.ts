import type { AuditService } from '../audit/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { decideGate } from './rollouts.gate.js';
import * as repo from './rollouts.repository.js';
import type { RolloutRow, WaveRow } from './rollouts.repository.js';

/** What the engine needs from other contexts (wired in app.ts). */
export interface RolloutPorts {
  /** Sends INSTALL_APK {releaseId} to the devices as the system; the command ids by device. */
  sendInstall(deviceIds: string[], releaseId: string, allowDowngrade: boolean): Promise<{ deviceId: string; commandId: string }[]>;
  /** The alert thresholds the gate shares with the sweep. */
  thresholds(): Promise<{ frameAgeMs: number; offlineAfterSec: number }>;
  /** Raises the `rollout_paused` alert through the alert channels. */
  alert(message: { title: string; text: string; url: string }): Promise<void>;
  /** Counts a gate this process decided (mdm_rollout_gates_total). */
  gateDecided(passed: boolean): void;
  /**
   * In the caller's transaction: the policy layer of the scope (a group's policy, or the fleet
   * default when groupId is null) that names release `from` in `field` is saved naming `to`, as a new
   * version audited with the system actor `rollouts`. No layer names `from`: nothing changes.
   */
  movePolicy(
    trx: Db,
    change: { groupId: string | null; field: 'kioskApp' | 'agentRelease'; from: string; to: string; rollout: string },
  ): Promise<void>;
}

export const SYSTEM = { kind: 'system' as const, name: 'rollouts' };
/** Stopped rollouts are still watched this long for rollbacks to send and to see reported. */
const WATCH_AFTER_FINISH_MS = 86_400_000;
/** Devices per INSTALL_APK batch (the command API's largest id list). */
const BATCH = 1000;

export interface TickReport {
  rollouts: number;
  installsSent: number;
  rollbacksSent: number;
  gates: { passed: number; failed: number };
  completed: number;
}

/**
 * Advances every rollout by what its rows say, one step per state, each a guarded transition: runs
 * under the tick's lease (once across instances), and a restart just reads the rows again.
 */
export class RolloutEngine {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly logger: Logger,
    private readonly ports: RolloutPorts,
    private readonly publicUrl: string,
    /** The agent's package: its rollouts count the agent's versionCode, and move a policy's agentRelease. */
    readonly agentPackage: string,
  ) {}

  async tick(): Promise<TickReport> {
    const now = this.clock.now();
    const report: TickReport = { rollouts: 0, installsSent: 0, rollbacksSent: 0, gates: { passed: 0, failed: 0 }, completed: 0 };
    const ids = await repo.activeRolloutIds(this.db, new Date(now.getTime() - WATCH_AFTER_FINISH_MS));
    for (const id of ids) {
      report.rollouts++;
      try {
        await this.step(id, report);
      } catch (err) {
        this.logger.error('rollout step failed', { rollout: id, err });
      }
    }
    return report;
  }

  private async step(id: string, report: TickReport): Promise<void> {
    const r = await repo.getRollout(this.db, id);
    if (!r) return;
    await repo.markReported(this.db, r, this.clock.now(), this.agentPackage);
    report.rollbacksSent += await this.send(r, 'rollback');
    for (const idx of await repo.unalertedFailures(this.db, r.id)) await this.raiseAlert(r, idx);
    if (r.state !== 'running' || r.current_wave === null) return;
    const [wave] = (await repo.listWaves(this.db, [r.id])).filter((w) => w.idx === r.current_wave);
    if (!wave) return;
    const now = this.clock.now();
    switch (wave.state) {
      case 'pending':
        if (await repo.setWaveState(this.db, r.id, wave.idx, ['pending'], 'installing', now, ['running'])) {
          report.installsSent += await this.send(r, 'install', wave.idx);
        }
        return;
      case 'installing': {
        report.installsSent += await this.send(r, 'install', wave.idx);
        const [w] = (await repo.listWaves(this.db, [r.id])).filter((x) => x.idx === wave.idx);
        const allUpdated = w!.updated >= w!.device_count;
        const timedOut = now.getTime() >= wave.installing_at!.getTime() + r.install_timeout_sec * 1000;
        if (allUpdated || timedOut) await repo.setWaveState(this.db, r.id, wave.idx, ['installing'], 'soaking', now, ['running']);
        return;
      }
      case 'soaking':
        if (now.getTime() >= wave.soaking_at!.getTime() + r.soak_sec * 1000) {
          const passed = await this.gate(r, wave, now);
          if (passed === true) report.gates.passed++;
          if (passed === false) report.gates.failed++;
        }
        return;
      case 'passed':
        if (await this.next(r, wave.idx, now)) report.completed++;
        return;
      case 'failed':
        return;
    }
  }

  /** Measures the wave against the devices still on A and decides; undefined when another run decided first. */
  private async gate(r: RolloutRow, wave: WaveRow, now: Date): Promise<boolean | undefined> {
    const health = await repo.cohortHealth(this.db, r, wave.idx, wave.soaking_at!, now, await this.ports.thresholds(), this.agentPackage);
    const verdict = decideGate({ devices: wave.device_count, updated: wave.updated }, health.wave, health.baseline, r.margin, now);
    const decided = await this.db.transaction().execute(async (trx) => {
      const to = verdict.passed ? 'passed' : 'failed';
      if (!(await repo.setWaveState(trx, r.id, wave.idx, ['soaking'], to, now, ['running'], verdict))) return false;
      if (!verdict.passed) {
        await repo.setRolloutState(trx, r.id, ['running'], 'paused', now, {
          pausedReason: `wave ${wave.idx + 1} failed its gate: ${verdict.reasons.join('; ')}`,
        });
        if (r.rollback_on_failure) await repo.requestRollback(trx, r.id, wave.idx, now);
      }
      await this.audit.record(trx, SYSTEM, {
        action: 'changed_rollout',
        target: { type: 'rollout', id: r.id },
        details: {
          change: verdict.passed ? 'gate_passed' : 'gate_failed',
          name: r.name,
          wave: wave.idx,
          reason: verdict.reasons.join('; ') || undefined,
        },
      });
      return true;
    });
    if (!decided) return undefined;
    this.ports.gateDecided(verdict.passed);
    this.logger.info('rollout gate', { rollout: r.id, wave: wave.idx, passed: verdict.passed, reasons: verdict.reasons });
    if (!verdict.passed) {
      await this.raiseAlert(r, wave.idx);
      await this.send(r, 'rollback');
    }
    return verdict.passed;
  }

  /** After a passed wave: the next one, or the rollout is completed. True when it completed. */
  async next(r: RolloutRow, idx: number, now: Date): Promise<boolean> {
    const waves = await repo.listWaves(this.db, [r.id]);
    if (idx + 1 < waves.length) {
      await repo.advanceWave(this.db, r.id, idx + 1, now);
      return false;
    }
    return this.db.transaction().execute(async (trx) => {
      if (!(await repo.setRolloutState(trx, r.id, ['running'], 'completed', now, { finished: true }))) return false;
      await this.audit.record(trx, SYSTEM, {
        action: 'changed_rollout',
        target: { type: 'rollout', id: r.id },
        details: { change: 'completed', name: r.name },
      });
      await this.movePolicy(trx, r, 'forward');
      return true;
    });
  }

  /**
   * Keeps the policy of the rollout's scope in step with it (docs/rollouts.md#policies): on completion
   * the layer naming A is moved to B ('forward'); when a completed rollout is rolled back, the layer
   * naming B goes back to A ('back'). In the caller's transaction.
   */
  async movePolicy(trx: Db, r: RolloutRow, direction: 'forward' | 'back'): Promise<void> {
    const [from, to] = direction === 'forward' ? [r.from_release_id, r.to_release_id] : [r.to_release_id, r.from_release_id];
    await this.ports.movePolicy(trx, {
      groupId: r.group_id,
      field: r.package_name === this.agentPackage ? 'agentRelease' : 'kioskApp',
      from,
      to,
      rollout: r.id,
    });
  }

  /**
   * Claims the devices to send to (B for a wave's install, A for requested rollbacks), sends, and
   * records each device's command. A device is claimed once, so it is never sent the same thing
   * twice; a send that fails gives its claims back for the next tick. Returns how many were sent.
   */
  async send(r: RolloutRow, kind: 'install' | 'rollback', wave?: number): Promise<number> {
    const now = this.clock.now();
    const claimed =
      kind === 'install' ? await repo.claimInstalls(this.db, r.id, wave!, now) : await repo.claimRollbacks(this.db, r.id, now);
    let sent = 0;
    for (let i = 0; i < claimed.length; i += BATCH) {
      const chunk = claimed.slice(i, i + BATCH);
      try {
        const commands =
          kind === 'install'
            ? await this.ports.sendInstall(chunk, r.to_release_id, r.allow_downgrade)
            : await this.ports.sendInstall(chunk, r.from_release_id, r.to_version_code > r.from_version_code);
        await repo.recordCommands(this.db, r.id, kind, commands);
        sent += commands.length;
      } catch (err) {
        this.logger.error('rollout could not send INSTALL_APK', { rollout: r.id, kind, devices: chunk.length, err });
        await repo.releaseClaims(this.db, r.id, kind, claimed.slice(i));
        break;
      }
    }
    if (sent) this.logger.info('rollout sent INSTALL_APK', { rollout: r.id, kind, wave, devices: sent });
    return sent;
  }

  private async raiseAlert(r: RolloutRow, idx: number): Promise<void> {
    if (!(await repo.claimWaveAlert(this.db, r.id, idx, this.clock.now()))) return;
    const fresh = await repo.getRollout(this.db, r.id);
    try {
      await this.ports.alert({
        title: `Rollout paused: ${r.name}`,
        text:
          `${r.package_name} ${r.from_version_code} -> ${r.to_version_code}${r.group_name ? ` in ${r.group_name}` : ''}: ` +
          `${fresh?.paused_reason ?? `wave ${idx + 1} failed its gate`}.` +
          (r.rollback_on_failure ? ` The wave's devices are being rolled back to ${r.from_version_code}.` : ''),
        url: `${this.publicUrl}/rollouts?id=${r.id}`,
      });
    } catch (err) {
      this.logger.error('rollout alert not raised', { rollout: r.id, err });
      await repo.unclaimWaveAlert(this.db, r.id, idx);
    }
  }
}

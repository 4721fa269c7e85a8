import type { AuditService } from '../audit/index.js';
import type { CommandService } from '../commands/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import { SELF_HEALING_KINDS } from './alert-kinds.js';
import { claimStep, closeStep, healableAlerts, setStepCommand, stepsTaken, type HealableAlert } from './alerts.repository.js';
import type { AlertSettings } from './alerts.schemas.js';
import { CHANNELS, targetOf } from './delivery.js';
import { insertNotices } from './notifications.repository.js';

/** The ladder: each step is tried only after the one before it has been checked by a heartbeat. */
export const LADDER = ['RELAUNCH_APP', 'CLEAR_APP_DATA', 'REBOOT'] as const;
type Action = (typeof LADDER)[number] | 'ESCALATE';
type Outcome = 'not_fixed' | 'command_failed' | 'timed_out' | 'budget_exhausted' | 'breaker_open' | 'escalated';

const SYSTEM = { kind: 'system' as const, name: 'self-healing' };
const DAY_MS = 86_400_000;

/**
 * Self-healing for open app alerts (kinds with selfHeal on, not acknowledged by a person): relaunch
 * the app, then clear its data, then reboot, then tell a person. A step is judged only once a
 * heartbeat arrived after its command finished (the sweep has then seen the state it left); a
 * command that fails, expires or takes longer than the step timeout counts as not fixing it. Each
 * device gets at most `dailyBudget` commands a day, and once a ladder ended with a person being
 * told, the device's circuit breaker stays open for a day: alerts still go out, no commands.
 * Steps are claimed in SQL (unique alert and step) before their command is sent, so two runs at once
 * never send one twice. A device that is offline is left alone until it is back.
 */
export class SelfHealing {
  constructor(
    private readonly db: Db,
    private readonly commands: CommandService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async run(settings: AlertSettings): Promise<{ commands: number; escalations: number }> {
    const kinds = SELF_HEALING_KINDS.filter((k) => settings.kinds[k].enabled && settings.kinds[k].selfHeal);
    if (kinds.length === 0) return { commands: 0, escalations: 0 };
    const now = this.clock.now();
    const dayAgo = new Date(now.getTime() - DAY_MS);
    // an offline device can do nothing: its ladder waits until it is back
    const onlineSince = new Date(now.getTime() - settings.thresholds.offlineAfterSec * 1000);
    const rows = await healableAlerts(this.db, kinds, dayAgo, onlineSince);

    let issued = 0;
    let escalations = 0;
    for (const a of rows) {
      const next = this.decide(a, settings, now);
      if (!next) continue;
      if (a.step !== null && a.outcome === null) await this.close(a.id, a.step, next.outcomeOfLast, now);
      const step = (a.step ?? 0) + 1;
      if (next.action === 'ESCALATE') {
        if (await this.escalate(a, step, next.reason, settings, now)) escalations++;
      } else if (await this.issue(a, step, next.action, settings, now)) issued++;
    }
    return { commands: issued, escalations };
  }

  /** What to do next for one alert, or nothing while its current step is still running. */
  decide(a: HealableAlert, settings: AlertSettings, now: Date): { action: Action; outcomeOfLast: Outcome; reason: Outcome } | null {
    if (a.action === 'ESCALATE') return null;
    let outcomeOfLast: Outcome = 'not_fixed';
    if (a.step !== null && a.outcome === null) {
      const finished = a.command_completed_at !== null && ['succeeded', 'failed', 'rejected'].includes(a.command_status ?? '');
      // No command yet is a step another run has just claimed and is still sending (claim, then send):
      // it is waited for like a running one - taken as failed, it would be closed and the next step
      // claimed at once (seen: two steps for one alert under concurrent sweeps). Never sent at all, it
      // times out below.
      const dead = a.command_status === 'expired';
      const timedOut = a.taken_at!.getTime() + settings.selfHealing.stepTimeoutSec * 1000 <= now.getTime();
      if (finished && a.command_status !== 'succeeded') outcomeOfLast = 'command_failed';
      else if (finished && a.last_seen_at > a.command_completed_at!) outcomeOfLast = 'not_fixed';
      else if (dead) outcomeOfLast = 'command_failed';
      else if (timedOut) outcomeOfLast = 'timed_out';
      else return null; // wait for the command and the heartbeat after it
    }
    const nextIndex = a.step ?? 0;
    if (a.step === null && a.breaker_open) return { action: 'ESCALATE', outcomeOfLast, reason: 'breaker_open' };
    if (nextIndex >= LADDER.length) return { action: 'ESCALATE', outcomeOfLast, reason: 'escalated' };
    if (a.used_today >= settings.selfHealing.dailyBudget) return { action: 'ESCALATE', outcomeOfLast, reason: 'budget_exhausted' };
    return { action: LADDER[nextIndex]!, outcomeOfLast, reason: outcomeOfLast };
  }

  private async close(alertId: string, step: number, outcome: Outcome, now: Date): Promise<void> {
    await closeStep(this.db, alertId, step, outcome, now);
  }

  /** Claims the step, then sends its signed command as the system; false when another run had it. */
  private async issue(
    a: HealableAlert,
    step: number,
    action: Exclude<Action, 'ESCALATE'>,
    settings: AlertSettings,
    now: Date,
  ): Promise<boolean> {
    if (!(await this.claim(a, step, action, now, null))) return false;
    const created = await this.commands.create(SYSTEM, {
      type: action,
      deviceIds: [a.device_id],
      expiresInSec: settings.selfHealing.stepTimeoutSec,
    });
    await setStepCommand(this.db, a.id, step, created.commands[0]!.id);
    this.logger.info('self-healing step sent', { alert: a.id, device: a.device_id, step, action });
    return true;
  }

  /** The ladder ends: a person is told (a notice per channel), and the device's breaker opens. */
  private async escalate(a: HealableAlert, step: number, reason: Outcome, settings: AlertSettings, now: Date): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      if (!(await this.claim(a, step, 'ESCALATE', now, reason, trx))) return false;
      const channels = CHANNELS.filter((c) => targetOf(settings, c) && settings.channels[c].kinds.includes(a.kind as never));
      await insertNotices(trx, a.id, channels, 'escalated', now);
      const steps = await stepsTaken(trx, a.id);
      await this.audit.record(trx, SYSTEM, {
        action: 'escalated_alert',
        target: { type: 'alert', id: a.id },
        deviceId: a.device_id,
        details: { kind: a.kind, reason, steps: steps.map((s) => s.action) },
      });
      return true;
    });
  }

  private async claim(
    a: HealableAlert,
    step: number,
    action: Action,
    now: Date,
    outcome: Outcome | null,
    trx: Db = this.db,
  ): Promise<boolean> {
    const row = await claimStep(trx, { alertId: a.id, deviceId: a.device_id, step, action, at: now, outcome });
    return row !== undefined;
  }
}

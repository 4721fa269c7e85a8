import { onSchedule } from 'firebase-functions/v2/scheduler';

/**
 * The minute's work in Firebase: expire commands, sweep, self-heal, notify (the app's `tick`). Cloud
 * Scheduler may start two runs at once after a delay; the sweep's advisory lock and the claims in
 * SQL make the second one a no-op. No retries: the next minute's run picks up whatever was missed.
 */
export function alertSweepTrigger(options: { region?: string }, tick: () => Promise<unknown>) {
  return onSchedule(
    {
      schedule: 'every 1 minutes',
      timeZone: 'Etc/UTC',
      ...(options.region ? { region: options.region } : {}),
      retryCount: 0,
      timeoutSeconds: 120,
      memory: '512MiB',
      maxInstances: 1,
    },
    async () => {
      await tick();
    },
  );
}

/** Daily upkeep in Firebase: heartbeat partitions ahead, stale rate-limit rows. */
export function maintenanceTrigger(options: { region?: string }, maintenance: () => Promise<unknown>) {
  return onSchedule(
    {
      schedule: 'every day 03:17',
      timeZone: 'Etc/UTC',
      ...(options.region ? { region: options.region } : {}),
      retryCount: 3,
      timeoutSeconds: 540,
      memory: '512MiB',
      maxInstances: 1,
    },
    async () => {
      await maintenance();
    },
  );
}

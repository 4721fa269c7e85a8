import functionsTest from 'firebase-functions-test';
import type { ScheduledEvent } from 'firebase-functions/v2/scheduler';
import { afterAll, describe, expect, it } from 'vitest';
import { alertSweepTrigger, maintenanceTrigger } from './alerts.trigger.js';

// firebase-functions-test sets up the demo project; scheduled functions are driven through their run().
const fft = functionsTest({ projectId: 'demo-mdm' });
const event = (): ScheduledEvent => ({ scheduleTime: new Date().toISOString(), jobName: 'firebase-schedule-test' });
afterAll(() => fft.cleanup());

describe('scheduled triggers', () => {
  it('runs the minute tick once per scheduled event, every minute, without retries', async () => {
    let ticks = 0;
    const fn = alertSweepTrigger({ region: 'europe-west1' }, async () => {
      ticks++;
    });
    await fn.run(event());
    await fn.run(event());
    expect(ticks).toBe(2);
    const endpoint = (fn as unknown as { __endpoint: Record<string, any> }).__endpoint; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(endpoint.scheduleTrigger).toMatchObject({ schedule: 'every 1 minutes', timeZone: 'Etc/UTC', retryConfig: { retryCount: 0 } });
    expect(endpoint.region).toEqual(['europe-west1']);
    expect(endpoint.maxInstances).toBe(1);
  });

  it('lets a failing tick fail the run (Cloud Logging shows it), and runs daily maintenance', async () => {
    const failing = alertSweepTrigger({ region: 'europe-west1' }, async () => {
      throw new Error('database unavailable');
    });
    await expect(Promise.resolve(failing.run(event()))).rejects.toThrow('database unavailable');
    let ran = false;
    const daily = maintenanceTrigger({ region: 'europe-west1' }, async () => {
      ran = true;
    });
    await daily.run(event());
    expect(ran).toBe(true);
    expect((daily as unknown as { __endpoint: { scheduleTrigger: { schedule: string } } }).__endpoint.scheduleTrigger.schedule).toBe(
      'every day 03:17',
    );
  });
});

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIO_DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, WebhookReceiver } from '../helpers/receivers.js';

const DOWN = { app: { package: 'com.example.kiosk', running: false, foreground: false } };

describe.each(SCENARIO_DB_KINDS)('self-healing on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let discord: WebhookReceiver;
  let device: EnrolledDevice;

  beforeAll(async () => {
    discord = await new WebhookReceiver().start();
  });
  afterAll(() => discord.stop());
  beforeEach(async () => {
    t = await createTestApp(kind, { ...LOOPBACK_CHANNELS });
    admin = await t.loginAs('admin');
    discord.received.length = 0;
    await t.request('PUT', '/api/v1/admin/settings/alerts', {
      token: admin,
      body: { channels: { discord: { enabled: true, webhookUrl: discord.url } } },
    });
    device = await t.enrollDevice({ serial: 'KIOSK-7' });
  });
  afterEach(() => t.close());

  /** A heartbeat as the device would send it; returns the command types in the answer, and reports each as executed. */
  const beat = async (overrides: Record<string, unknown> = {}, report = true) => {
    const token = await t.deviceToken(device);
    const res = await t.request('POST', '/api/v1/heartbeat', { token, body: sampleHeartbeat(t.clock.now(), overrides) });
    for (const envelope of res.json.commands as { cid: string }[]) {
      if (report) await t.request('POST', `/api/v1/commands/${envelope.cid}/result`, { token, body: { status: 'succeeded' } });
    }
    return (res.json.commands as { type: string }[]).map((c) => c.type);
  };
  const minutes = (n: number) => t.clock.advance(n * 60_000);
  const alert = async () => (await t.request('GET', '/api/v1/admin/alerts?kind=app_down', { token: admin })).json.items[0];
  /** The app stays down: the ladder climbs one step per round of (heartbeat carrying the command, heartbeat after it, sweep). */
  const round = async () => {
    const delivered = await beat(DOWN);
    minutes(1);
    await beat(DOWN);
    await t.app.tick();
    return delivered;
  };

  it('waits for a step another sweep has claimed but not sent yet, instead of taking the next one', async () => {
    const selfHeal = (on: boolean) =>
      t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { kinds: { app_down: { selfHeal: on } } } });
    expect((await selfHeal(false)).status).toBe(200);
    await beat(DOWN);
    await t.app.tick();
    minutes(3);
    await beat(DOWN);
    await t.app.tick(); // the alert opens; no step while self-healing is off
    // another sweep claims the first step and has not attached its command yet
    const { id: alertId } = await t.db.db.selectFrom('alerts').select('id').where('kind', '=', 'app_down').executeTakeFirstOrThrow();
    await t.db.db
      .insertInto('alert_remediations')
      .values({ alert_id: alertId, device_id: device.deviceId, step: 1, action: 'RELAUNCH_APP', taken_at: t.clock.now() })
      .execute();
    expect((await selfHeal(true)).status).toBe(200);
    await t.app.tick();
    const steps = () =>
      t.db.db.selectFrom('alert_remediations').select(['step', 'outcome']).where('alert_id', '=', alertId).orderBy('step').execute();
    expect(await steps()).toEqual([{ step: 1, outcome: null }]);
    // a step that was never sent times out like one that never answered, and the ladder goes on
    minutes(11);
    await beat(DOWN);
    await t.app.tick();
    expect(await steps()).toEqual([
      { step: 1, outcome: 'timed_out' },
      { step: 2, outcome: null },
    ]);
  });

  it('relaunches, clears data, reboots, then tells a person, each step after a heartbeat checked the last', async () => {
    await beat(DOWN);
    await t.app.tick();
    minutes(3);
    await beat(DOWN);
    await t.app.tick(); // the alert opens and the first step goes out
    expect((await alert()).remediation.map((s: { action: string }) => s.action)).toEqual(['RELAUNCH_APP']);
    await t.app.tick(); // nothing new before the device has answered
    expect((await alert()).remediation).toHaveLength(1);

    expect(await round()).toEqual(['RELAUNCH_APP']);
    expect(await round()).toEqual(['CLEAR_APP_DATA']);
    expect(await round()).toEqual(['REBOOT']);
    const a = await alert();
    expect(a.remediation.map((s: { action: string; outcome: string }) => `${s.action}:${s.outcome}`)).toEqual([
      'RELAUNCH_APP:not_fixed',
      'CLEAR_APP_DATA:not_fixed',
      'REBOOT:not_fixed',
      'ESCALATE:escalated',
    ]);
    expect(a.remediation[0].commandStatus).toBe('succeeded');
    expect(await round()).toEqual([]);

    const commands = (await t.request('GET', `/api/v1/admin/commands?deviceId=${device.deviceId}`, { token: admin })).json.items;
    expect(commands.map((c: { createdBy: { type: string } }) => c.createdBy.type)).toEqual(['system', 'system', 'system']);
    const audit = (await t.request('GET', `/api/v1/admin/audit?deviceId=${device.deviceId}`, { token: admin })).json.items;
    expect(audit.map((e: { action: string; actor: { type: string } }) => `${e.action}:${e.actor.type}`)).toEqual(
      expect.arrayContaining(['sent_command:system', 'escalated_alert:system']),
    );
    minutes(2);
    await t.app.tick();
    const titles = discord.received.map((r) => r.body.embeds[0].title as string);
    expect(titles.some((title) => title.startsWith('Needs a person: Pixel 7 KIOSK-7'))).toBe(true);
  });

  it('stops at the daily budget, and the open circuit breaker keeps the next alert from sending commands', async () => {
    await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { selfHealing: { dailyBudget: 2 } } });
    await beat(DOWN);
    await t.app.tick();
    minutes(3);
    await beat(DOWN);
    await t.app.tick();
    await round();
    await round();
    const steps = (await alert()).remediation.map((s: { action: string; outcome: string }) => `${s.action}:${s.outcome}`);
    expect(steps).toEqual(['RELAUNCH_APP:not_fixed', 'CLEAR_APP_DATA:not_fixed', 'ESCALATE:budget_exhausted']);

    // the app comes back, then fails again the same day: alerted, but no commands
    await beat();
    await t.app.tick();
    minutes(20);
    await beat(DOWN);
    await t.app.tick();
    minutes(3);
    await beat(DOWN);
    await t.app.tick();
    const again = (await t.request('GET', '/api/v1/admin/alerts?kind=app_down&status=open', { token: admin })).json.items[0];
    expect(again.remediation.map((s: { action: string; outcome: string }) => `${s.action}:${s.outcome}`)).toEqual([
      'ESCALATE:breaker_open',
    ]);
    const commands = (await t.request('GET', `/api/v1/admin/commands?deviceId=${device.deviceId}`, { token: admin })).json.items;
    expect(commands).toHaveLength(2);
  });

  it('marks the step that fixed it, and says so in the resolution', async () => {
    await beat(DOWN);
    await t.app.tick();
    minutes(3);
    await beat(DOWN);
    await t.app.tick();
    minutes(1);
    await t.app.tick(); // the opening message goes out
    expect(await beat(DOWN)).toEqual(['RELAUNCH_APP']);
    minutes(1);
    await beat(); // back in front
    await t.app.tick();
    const resolved = (await t.request('GET', '/api/v1/admin/alerts?kind=app_down', { token: admin })).json.items[0];
    expect(resolved.status).toBe('resolved');
    expect(resolved.remediation).toMatchObject([{ action: 'RELAUNCH_APP', outcome: 'fixed' }]);
    minutes(2);
    await t.app.tick();
    const resolution = discord.received.map((r) => r.body.embeds[0]).find((e) => e.title.startsWith('Resolved: '));
    expect(resolution.description).toContain('fixed after RELAUNCH_APP');
  });

  it('leaves an acknowledged alert to the person who has it', async () => {
    await beat(DOWN);
    await t.app.tick();
    minutes(3);
    await beat(DOWN);
    await t.app.tick();
    const open = await alert();
    await t.request('POST', `/api/v1/admin/alerts/${open.id}/ack`, { token: admin });
    await round();
    await round();
    expect((await alert()).remediation.map((s: { action: string }) => s.action)).toEqual(['RELAUNCH_APP']);
  });
});

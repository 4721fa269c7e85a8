import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIO_DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, MailReceiver, WebhookReceiver } from '../helpers/receivers.js';

describe.each(SCENARIO_DB_KINDS)('alerts and notifications on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let discord: WebhookReceiver;
  let mail: MailReceiver;

  beforeAll(async () => {
    discord = await new WebhookReceiver().start();
    mail = await new MailReceiver().start();
  });
  afterAll(async () => {
    await discord.stop();
    await mail.stop();
  });

  beforeEach(async () => {
    t = await createTestApp(kind, { ...LOOPBACK_CHANNELS });
    admin = await t.loginAs('admin');
    discord.received.length = 0;
    discord.attempts = 0;
    mail.received.length = 0;
    const res = await t.request('PUT', '/api/v1/admin/settings/alerts', {
      token: admin,
      body: {
        kinds: { low_battery: { enabled: false } },
        channels: {
          discord: { enabled: true, webhookUrl: discord.url },
          email: { enabled: true, smtpUrl: mail.url, to: ['ops@example.com', 'night@example.com'], from: 'MDM <mdm@example.com>' },
        },
      },
    });
    expect(res.status).toBe(200);
  });
  afterEach(() => t.close());

  const beat = async (d: EnrolledDevice, overrides: Record<string, unknown> = {}) => {
    const res = await t.request('POST', '/api/v1/heartbeat', {
      token: await t.deviceToken(d),
      body: sampleHeartbeat(t.clock.now(), overrides),
    });
    expect(res.status).toBe(200);
  };
  const minutes = (n: number) => t.clock.advance(n * 60_000);
  const openAlerts = async () => (await t.request('GET', '/api/v1/admin/alerts?status=open', { token: admin })).json.items;

  it('an offline device: one alert, one Discord message and one e-mail; its next heartbeat resolves it with one message each', async () => {
    const device = await t.enrollDevice({ serial: 'LOBBY-1' });
    await beat(device);
    minutes(11);
    await t.app.tick();
    expect(await openAlerts()).toEqual([]);
    minutes(2); // 13 min since the last heartbeat: past the 12-minute threshold
    await t.app.tick();
    const [alert] = await openAlerts();
    expect(alert).toMatchObject({ kind: 'offline', device: { id: device.deviceId, name: 'Pixel 7 LOBBY-1' } });
    expect(discord.received).toHaveLength(0); // waiting out the digest window
    minutes(1);
    await t.app.tick();
    await t.app.tick(); // nothing new
    expect(discord.received).toHaveLength(1);
    expect(mail.received).toHaveLength(1);
    const embed = discord.received[0]!.body.embeds[0];
    expect(embed.title).toContain('Pixel 7 LOBBY-1');
    expect(embed.url).toBe(`https://mdm.example.com/alerts/${alert.id}`);
    expect(mail.received[0]!.subject).toContain('offline');
    expect(mail.received[0]!.text).toContain('Pixel 7 LOBBY-1');
    expect(mail.received[0]!.to).toMatchObject({ text: 'ops@example.com, night@example.com' });

    await beat(device);
    await t.app.tick();
    expect(await openAlerts()).toEqual([]);
    minutes(1);
    await t.app.tick();
    await t.app.tick();
    expect(discord.received).toHaveLength(2);
    expect(mail.received).toHaveLength(2);
    expect(discord.received[1]!.body.embeds[0].title).toMatch(/^Resolved: /);
    expect(mail.received[1]!.subject).toMatch(/^Resolved: /);
    const sent = (await t.request('GET', '/api/v1/admin/notifications', { token: admin })).json.items;
    expect(sent.map((n: { type: string; status: string }) => `${n.type}:${n.status}`).sort()).toEqual([
      'alert:sent',
      'alert:sent',
      'resolution:sent',
      'resolution:sent',
    ]);
  });

  it('50 devices going offline in the same minute make one digest per channel', async () => {
    const fleet: EnrolledDevice[] = [];
    for (let i = 0; i < 50; i++) fleet.push(await t.enrollDevice({ serial: `S-${i}` }));
    for (const d of fleet) {
      t.clock.advance(1000); // spread over the minute
      await beat(d);
    }
    for (let m = 0; m < 16; m++) {
      minutes(1);
      await t.app.tick();
    }
    expect(await openAlerts()).toHaveLength(50);
    expect(discord.received).toHaveLength(1);
    expect(mail.received).toHaveLength(1);
    expect(discord.received[0]!.body.embeds[0].title).toBe('50 devices offline');
    expect(mail.received[0]!.text).toContain('Pixel 7 S-49');
    expect(discord.received[0]!.body.embeds.length).toBeLessThanOrEqual(10);
  });

  it('does not alert on a flap, nor reopen within the cooldown, and holds app alerts for the hold time', async () => {
    const device = await t.enrollDevice();
    await beat(device, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await t.app.tick();
    minutes(1);
    await beat(device); // the app came back within the hold time: no alert
    await t.app.tick();
    minutes(3);
    await t.app.tick();
    expect(await openAlerts()).toEqual([]);

    await beat(device, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await t.app.tick();
    minutes(3);
    await beat(device, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await t.app.tick();
    expect((await openAlerts()).map((a: { kind: string }) => a.kind)).toEqual(['app_down']);
    await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { kinds: { app_down: { selfHeal: false } } } });
    minutes(1);
    await beat(device);
    await t.app.tick();
    minutes(1);
    await beat(device, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await t.app.tick();
    minutes(5);
    await beat(device, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await t.app.tick();
    expect(await openAlerts()).toEqual([]); // within the 15-minute cooldown
    minutes(15);
    await beat(device, { app: { package: 'com.example.kiosk', running: false, foreground: false } });
    await t.app.tick();
    expect((await openAlerts()).map((a: { kind: string }) => a.kind)).toEqual(['app_down']);
  });

  it('alerts a device that stays offline once its cooldown has passed, though it went offline long before', async () => {
    const device = await t.enrollDevice({ serial: 'FLAP' });
    await beat(device);
    minutes(13);
    await t.app.tick();
    expect((await openAlerts()).map((a: { kind: string }) => a.kind)).toEqual(['offline']);
    await beat(device);
    await t.app.tick(); // resolved
    minutes(13);
    await t.app.tick(); // offline again, inside the 15-minute cooldown: no alert
    expect(await openAlerts()).toEqual([]);
    for (let m = 0; m < 4; m++) {
      minutes(1);
      await t.app.tick();
    }
    expect((await openAlerts()).map((a: { kind: string }) => a.kind)).toEqual(['offline']);
  });

  it('alerts devices offline since before offline alerts were switched on', async () => {
    await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { kinds: { offline: { enabled: false } } } });
    const device = await t.enrollDevice();
    await beat(device);
    for (let m = 0; m < 40; m++) {
      minutes(1);
      await t.app.tick();
    }
    expect(await openAlerts()).toEqual([]);
    await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { kinds: { offline: { enabled: true } } } });
    await t.app.tick();
    expect((await openAlerts()).map((a: { kind: string }) => a.kind)).toEqual(['offline']);
  });

  it('retries a Discord 429 after Retry-After without losing or doubling the message', async () => {
    discord.script.push({ status: 429, headers: { 'retry-after': '1' }, body: '{"retry_after":1}' });
    const device = await t.enrollDevice();
    await beat(device);
    minutes(13);
    await t.app.tick();
    minutes(1);
    await t.app.tick();
    expect(discord.attempts).toBe(2);
    expect(discord.received).toHaveLength(1);
    await t.app.tick();
    expect(discord.received).toHaveLength(1);
  });

  it('records an unreachable SMTP server as a failed message, retries it, and keeps sweeping', async () => {
    await t.request('PUT', '/api/v1/admin/settings/alerts', {
      token: admin,
      body: { channels: { email: { smtpUrl: 'smtp://127.0.0.1:1' } } },
    });
    const first = await t.enrollDevice({ serial: 'A' });
    const second = await t.enrollDevice({ serial: 'B' });
    await beat(first);
    await beat(second);
    minutes(13);
    await beat(second);
    await t.app.tick();
    minutes(1);
    await t.app.tick();
    const failed = (await t.request('GET', '/api/v1/admin/notifications?channel=email', { token: admin })).json.items;
    expect(failed).toMatchObject([{ status: 'failed', attempts: 1, lastError: expect.any(String) }]);
    expect(discord.received).toHaveLength(1);
    // the sweep goes on: the second device goes offline too and is alerted
    minutes(13);
    await t.app.tick();
    expect(await openAlerts()).toHaveLength(2);
    // the SMTP server is back: the failed message goes out on a later tick, once
    await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { channels: { email: { smtpUrl: mail.url } } } });
    minutes(5);
    await t.app.tick();
    await t.app.tick();
    const subjects = mail.received.map((m) => m.subject);
    expect(subjects.filter((s) => s?.includes('Pixel 7 A'))).toHaveLength(1);
  });

  it('keeps channel URLs secret: sealed in the database, never shown, never logged', async () => {
    const view = await t.request('GET', '/api/v1/admin/settings/alerts', { token: admin });
    expect(view.json.channels.discord).toMatchObject({ enabled: true, webhookUrlSet: true });
    expect(JSON.stringify(view.json)).not.toContain('secret-token');
    const row = await t.db.db.selectFrom('alert_settings').select('settings').executeTakeFirstOrThrow();
    expect(JSON.stringify(row.settings)).not.toContain('secret-token');
    expect(JSON.stringify(t.logs.lines)).not.toContain('secret-token');
    const audit = await t.db.db.selectFrom('audit_log').selectAll().where('action', '=', 'updated_alert_settings').execute();
    expect(audit[0]!.details).toMatchObject({ changed: expect.arrayContaining(['channels.discord.webhookUrl']) });
    expect(JSON.stringify(audit)).not.toContain('secret-token');
    const bad = await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { thresholds: { lowBatteryPct: 99 } } });
    expect(bad.status).toBe(400);
    const unknown = await t.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { thresholds: { lowBatery: 10 } } });
    expect(unknown.status).toBe(400);
  });

  it('sends a test message through each channel on request, recorded', async () => {
    const res = await t.request('POST', '/api/v1/admin/settings/alerts/test', { token: admin, body: {} });
    expect(res.json.results).toEqual([
      { channel: 'discord', ok: true },
      { channel: 'email', ok: true },
    ]);
    expect(discord.received[0]!.body.embeds[0].title).toBe('Fleet MDM test message');
    expect(mail.received[0]!.subject).toBe('Fleet MDM test message');
  });

  it('lets an operator acknowledge an alert, once, audited', async () => {
    const device = await t.enrollDevice();
    await beat(device);
    minutes(13);
    await t.app.tick();
    const [alert] = await openAlerts();
    const operator = await t.loginAs('operator');
    const ack = await t.request('POST', `/api/v1/admin/alerts/${alert.id}/ack`, { token: operator });
    expect(ack.json).toMatchObject({
      id: alert.id,
      acknowledgedBy: expect.stringMatching(/^operator/),
      acknowledgedAt: expect.any(String),
    });
    await t.request('POST', `/api/v1/admin/alerts/${alert.id}/ack`, { token: admin });
    const again = await t.request('GET', `/api/v1/admin/alerts/${alert.id}`, { token: admin });
    expect(again.json.acknowledgedBy).toBe(ack.json.acknowledgedBy);
    const audit = await t.request('GET', `/api/v1/admin/audit?action=acknowledged_alert`, { token: admin });
    expect(audit.json.items).toHaveLength(1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, MailReceiver, WebhookReceiver } from '../helpers/receivers.js';

/** Two instances sweeping at the same moment (a scheduler firing twice, two standalone servers): on the real PostgreSQL. */
describe('concurrent sweeps on PostgreSQL', () => {
  let t: TestApp;
  let discord: WebhookReceiver;
  let mail: MailReceiver;
  const fleet: EnrolledDevice[] = [];

  beforeAll(async () => {
    discord = await new WebhookReceiver().start();
    mail = await new MailReceiver().start();
    t = await createTestApp('postgres', { ALERT_DIGEST_WINDOW_SEC: '0', ...LOOPBACK_CHANNELS });
    const admin = await t.loginAs('admin');
    await t.request('PUT', '/api/v1/admin/settings/alerts', {
      token: admin,
      body: {
        channels: {
          discord: { enabled: true, webhookUrl: discord.url },
          email: { enabled: true, smtpUrl: mail.url, to: ['ops@example.com'] },
        },
      },
    });
    for (let i = 0; i < 8; i++) {
      const d = await t.enrollDevice({ serial: `C-${i}` });
      await t.request('POST', '/api/v1/heartbeat', {
        token: await t.deviceToken(d),
        body: sampleHeartbeat(t.clock.now(), i % 2 ? { app: { package: 'com.example.kiosk', running: false, foreground: false } } : {}),
      });
      fleet.push(d);
    }
  });
  afterAll(async () => {
    await t.close();
    await discord.stop();
    await mail.stop();
  });

  it('opens each alert once and sends each message once, however many sweeps run at once', async () => {
    await Promise.all(Array.from({ length: 4 }, () => t.app.tick())); // the app conditions are seen
    t.clock.advance(3 * 60_000); // and have held past the hold time
    await Promise.all(Array.from({ length: 4 }, () => t.app.tick()));
    t.clock.advance(13 * 60_000); // now everyone is offline too
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: 4 }, () => t.app.tick()));

    const alerts = await t.db.db.selectFrom('alerts').select(['device_id', 'kind', 'status']).execute();
    const open = alerts.filter((a) => a.status === 'open');
    expect(new Set(open.map((a) => `${a.device_id}:${a.kind}`)).size).toBe(open.length);
    expect(alerts.filter((a) => a.kind === 'offline')).toHaveLength(8);
    expect(alerts.filter((a) => a.kind === 'app_down')).toHaveLength(4);
    const notices = await t.db.db.selectFrom('alert_notices').select(['alert_id', 'channel', 'type']).execute();
    expect(new Set(notices.map((n) => `${n.alert_id}:${n.channel}:${n.type}`)).size).toBe(notices.length);
    // every notice went out exactly once, in as few messages as the grouping made
    const titles = discord.received.map((r) => r.body.embeds[0].title as string);
    expect(new Set(titles).size).toBe(titles.length);
    expect(mail.received).toHaveLength(discord.received.length);
    const remediations = await t.db.db.selectFrom('alert_remediations').select(['alert_id', 'step']).execute();
    expect(remediations).toHaveLength(4);
  });
});

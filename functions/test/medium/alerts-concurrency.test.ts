import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, MailReceiver, WebhookReceiver } from '../helpers/receivers.js';
import { sql } from 'kysely';
import { AlertDelivery } from '../../src/alerts/delivery.js';
import { defaultSettings } from '../../src/alerts/alert-settings.js';

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

  it('composes each ready group into one message however many composers run at once', async () => {
    // Composers that lock the outbox row by row would each take part of a group and split its digest.
    const settings = defaultSettings({
      offlineAfterSec: 720,
      lowBatteryPct: 15,
      frameAgeMs: 60_000,
      holdSec: 120,
      cooldownSec: 600,
      digestWindowSec: 0,
      maxMessagesPerMinute: 1_000_000,
      dailyBudget: 10,
      stepTimeoutSec: 120,
      discordWebhookUrl: undefined,
      smtpUrl: mail.url,
      emailTo: ['ops@example.com'],
      emailFrom: 'mdm@example.com',
    });
    const noSend = { send: async () => ({ ok: true as const }) };
    const logger = { debug() {}, info() {}, warn() {}, error() {} } as never;
    const composers = Array.from({ length: 4 }, () => new AlertDelivery(t.db.db, noSend, t.clock, logger, 'http://mdm.test'));
    for (let round = 0; round < 15; round++) {
      t.clock.advance(1000);
      const at = t.clock.now();
      // 400 escalations of the same kind: one group, so one message
      await sql`insert into alert_notices (alert_id, channel, type, created_at)
        select a.id, 'email', 'escalated', ${at}::timestamptz from alerts a, generate_series(1, 50)
        where a.kind = 'offline'`.execute(t.db.db);
      const before = await t.db.db
        .selectFrom('notifications')
        .select((e) => e.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      const made = await Promise.all(composers.map((c) => c.compose('email', settings)));
      const after = await t.db.db
        .selectFrom('notifications')
        .select((e) => e.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect({ round, made: made.reduce((a, b) => a + b, 0), stored: Number(after.n) - Number(before.n) }).toEqual({
        round,
        made: 1,
        stored: 1,
      });
    }
    const left = await t.db.db
      .selectFrom('alert_notices')
      .select('id')
      .where('notification_id', 'is', null)
      .where('channel', '=', 'email')
      .execute();
    expect(left).toHaveLength(0);
  });
});

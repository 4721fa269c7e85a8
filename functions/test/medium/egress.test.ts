import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { MailReceiver, WebhookReceiver } from '../helpers/receivers.js';

/**
 * Safe egress for alert channels (issue 13): webhooks only to Discord's hosts, no connection to
 * loopback, private or metadata addresses unless allowed, no redirects, and a channel test that tells
 * a failure by its kind only - never the remote's answer - and is rate-limited.
 */
describe('egress of alert channels', () => {
  let t: TestApp | undefined;
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
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const settings = (admin: string, channels: Record<string, unknown>) =>
    t!.request('PUT', '/api/v1/admin/settings/alerts', { token: admin, body: { channels } });

  it("refuses to save a webhook that is not on Discord's hosts, and changes nothing", async () => {
    t = await createTestApp('pglite');
    const admin = await t.loginAs('admin');
    for (const url of [discord.url, 'https://discord.com.evil.example/api/webhooks/1/x', 'http://169.254.169.254/latest/meta-data']) {
      const res = await settings(admin, { discord: { enabled: true, webhookUrl: url } });
      expect(res.status, url).toBe(400);
      expect(res.json.error.code).toBe('webhook_host_not_allowed');
    }
    const view = await t.request('GET', '/api/v1/admin/settings/alerts', { token: admin });
    expect(view.json.channels.discord.webhookUrlSet).toBe(false);
    expect((await settings(admin, { discord: { enabled: true, webhookUrl: 'https://discord.com/api/webhooks/1/abc' } })).status).toBe(200);
  });

  it('does not connect to a loopback receiver unless allowed; the test says only "destination_refused"', async () => {
    // the webhook host is allowed, its address is not (EGRESS_ALLOW_CIDRS unset)
    t = await createTestApp('pglite', { DISCORD_WEBHOOK_HOSTS: '127.0.0.1' });
    const admin = await t.loginAs('admin');
    const saved = await settings(admin, {
      discord: { enabled: true, webhookUrl: discord.url },
      email: { enabled: true, smtpUrl: mail.url, to: ['ops@example.com'] },
    });
    expect(saved.status).toBe(200);
    const attempts = discord.attempts;
    const res = await t.request('POST', '/api/v1/admin/settings/alerts/test', { token: admin, body: {} });
    expect(res.status).toBe(200);
    expect(res.json.results).toEqual([
      { channel: 'discord', ok: false, failure: 'destination_refused', error: expect.stringContaining('loopback') },
      { channel: 'email', ok: false, failure: 'destination_refused', error: expect.stringContaining('loopback') },
    ]);
    expect(discord.attempts).toBe(attempts);
    expect(mail.received).toHaveLength(0);
  });

  it("reports a failure by its kind, never with the remote's answer, and does not follow redirects", async () => {
    t = await createTestApp('pglite', { DISCORD_WEBHOOK_HOSTS: '127.0.0.1', EGRESS_ALLOW_CIDRS: '127.0.0.1' });
    const admin = await t.loginAs('admin');
    expect((await settings(admin, { discord: { enabled: true, webhookUrl: discord.url } })).status).toBe(200);
    const test = () => t!.request('POST', '/api/v1/admin/settings/alerts/test', { token: admin, body: { channel: 'discord' } });

    discord.script.push({ status: 400, headers: { 'content-type': 'text/html' }, body: '<h1>internal: db password hunter2</h1>' });
    const rejected = await test();
    expect(rejected.json.results).toEqual([{ channel: 'discord', ok: false, failure: 'rejected', error: expect.any(String) }]);
    expect(JSON.stringify(rejected.json)).not.toContain('hunter2');

    discord.script.push({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } });
    const redirected = await test();
    expect(redirected.json.results[0]).toMatchObject({ ok: false, failure: 'rejected' });
    // the stored record of a test says no more than the answer did
    const log = await t.request('GET', '/api/v1/admin/notifications', { token: admin });
    expect(JSON.stringify(log.json)).not.toContain('hunter2');
  });

  it('limits channel tests to 10 per admin per window (429 after), counted before anything is sent', async () => {
    t = await createTestApp('pglite', { DISCORD_WEBHOOK_HOSTS: '127.0.0.1', EGRESS_ALLOW_CIDRS: '127.0.0.1' });
    const admin = await t.loginAs('admin');
    expect((await settings(admin, { discord: { enabled: true, webhookUrl: discord.url } })).status).toBe(200);
    const before = discord.received.length;
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      statuses.push((await t.request('POST', '/api/v1/admin/settings/alerts/test', { token: admin, body: { channel: 'discord' } })).status);
    }
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
    expect(discord.received.length - before).toBe(10);
  });

  it('refuses to start with a default webhook on another host, or a bad EGRESS_ALLOW_CIDRS', () => {
    expect(() => loadConfig({ DISCORD_WEBHOOK_URL: 'https://hooks.example.com/api/webhooks/1/x' })).toThrow(/DISCORD_WEBHOOK_HOSTS/);
    expect(() => loadConfig({ EGRESS_ALLOW_CIDRS: '10.0.0.0/33' })).toThrow(/EGRESS_ALLOW_CIDRS/);
    expect(loadConfig({ EGRESS_ALLOW_CIDRS: '10.0.0.5, fd00::/8' }).egress.allow).toHaveLength(2);
  });
});

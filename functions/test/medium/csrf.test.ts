import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { LOOPBACK_CHANNELS, WebhookReceiver } from '../helpers/receivers.js';

/**
 * Cross-site request forgery against the console's cookie: a page on a sibling subdomain or another
 * port of the same host gets the SameSite=Strict cookie sent along, so the server itself must refuse
 * a state-changing cookie request that does not come from the console's own origin.
 */
describe('CSRF on cookie-authenticated admin requests', () => {
  let t: TestApp;
  let discord: WebhookReceiver;
  let cookie: string;
  let bearer: string;
  beforeAll(async () => {
    discord = await new WebhookReceiver().start();
    t = await createTestApp('pglite', { DISCORD_WEBHOOK_URL: discord.url, ...LOOPBACK_CHANNELS });
    bearer = await t.loginAs('admin');
    cookie = `mdm_session=${bearer}`;
  });
  afterAll(async () => {
    await t.close();
    await discord.stop();
  });

  const test = (headers: Record<string, string>, rawBody = '') =>
    t.request('POST', '/api/v1/admin/settings/alerts/test', { headers: { host: 'mdm.example.com', ...headers }, rawBody });

  it('refuses an empty text/plain cookie POST from a foreign origin, and sends nothing', async () => {
    const res = await test({ cookie, 'content-type': 'text/plain', origin: 'https://evil.example.com' });
    expect(res.status).toBe(403);
    expect((res.json as { error: { code: string } }).error.code).toBe('cross_origin');
    const sibling = await test({
      cookie,
      'content-type': 'text/plain',
      origin: 'https://other.mdm.example.com',
      'sec-fetch-site': 'same-site',
    });
    expect(sibling.status).toBe(403);
    const noOrigin = await test({ cookie, 'content-type': 'text/plain' });
    expect(noOrigin.status).toBe(403);
    expect(discord.attempts).toBe(0);
  });

  it('refuses an empty body with a non-JSON type even from the console itself (415), and sends nothing', async () => {
    const res = await test({ cookie, 'content-type': 'text/plain', 'sec-fetch-site': 'same-origin' });
    expect(res.status).toBe(415);
    const form = await test({ cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://mdm.example.com' });
    expect(form.status).toBe(415);
    expect(discord.attempts).toBe(0);
  });

  it('lets the console (same origin) and bearer-token callers through', async () => {
    const console = await test({ cookie, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, '{}');
    expect(console.status).toBe(200);
    const byOrigin = await test({ cookie, 'content-type': 'application/json', origin: 'https://mdm.example.com' }, '{}');
    expect(byOrigin.status).toBe(200);
    const cli = await test({ authorization: `Bearer ${bearer}`, origin: 'https://evil.example.com' });
    expect(cli.status).toBe(200);
    // reading with the cookie needs no origin
    expect((await t.request('GET', '/api/v1/admin/me', { headers: { cookie } })).status).toBe(200);
  });
});

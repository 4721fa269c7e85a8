import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

/**
 * Day-two pages in headless Chromium against the real standalone server: the audit log names devices
 * and admins as they are now and filters by a device picked by name; the fleet page's health chart
 * follows its 24 h / 7 d toggle and fits a 390 px phone.
 */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('day two in the console', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let admin: string;
  let kept: VirtualDevice;
  let gone: VirtualDevice;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start(), launch()]);
    admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    const token = await enrollmentToken(server.url, admin, { maxUses: 2 });
    kept = await new VirtualDevice(server.url, 'AUD-0001', 'Tab A8').enroll(token);
    gone = await new VirtualDevice(server.url, 'AUD-0002', 'Tab A8').enroll(token);
    for (const d of [kept, gone]) await d.heartbeat();
    await api('PATCH', `/devices/${kept.deviceId}`, { name: 'Till 3' });
    await api('POST', '/commands', { type: 'PING', deviceIds: [kept.deviceId] });
    await api('PATCH', `/devices/${kept.deviceId}`, { name: 'Till 7' }); // renamed after the entries above
    await api('PATCH', `/devices/${gone.deviceId}`, { name: 'Spare 2' });
    await api('POST', `/devices/${gone.deviceId}/retire`, { wipe: false });
    expect((await api('DELETE', `/devices/${gone.deviceId}`)).status).toBe(204);
    page = await signIn(await browser.newContext({ viewport: { width: 1366, height: 850 } }), server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const actions = () => page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));

  it("filters the audit log by a device picked by its current name, and shows names and the admin's email", async () => {
    await page.goto(`${server.url}/audit`);
    await page.getByTestId('audit-row').first().waitFor();
    // a deleted device keeps the name its deletion recorded
    await until(
      async () => (await page.getByTestId('audit-device-link').allTextContents()).some((t) => t.trim() === 'Spare 2'),
      5000,
      'Spare 2',
    );
    const suggestions = await page.locator('#audit-devices option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(suggestions).toEqual(expect.arrayContaining(['Till 7', 'Spare 2']));
    await page.getByTestId('audit-device').fill('Till 7');
    await until(
      async () => {
        const a = await actions();
        return a.includes('enrolled_device') && a.includes('sent_command') && !a.includes('deleted_device') && !a.includes('logged_in');
      },
      5000,
      "Till 7's entries",
    );
    // every entry, also those written before the last rename, names the device as it is called now
    expect(new Set((await page.getByTestId('audit-device-link').allTextContents()).map((t) => t.trim()))).toEqual(new Set(['Till 7']));
    const sent = page.locator('[data-testid="audit-row"][data-action="sent_command"]');
    expect(await sent.locator('td').nth(1).textContent()).toContain(ADMIN.email);
    // the admin picker takes the email
    await page.getByTestId('audit-actor').fill(ADMIN.email);
    await until(
      async () => {
        const a = await actions();
        return a.length > 0 && !a.includes('enrolled_device');
      },
      5000,
      "the admin's entries on Till 7",
    );
    expect(errors).toEqual([]);
  });

  it('draws the fleet health chart for 24 h and 7 d, sized to a 390 px screen', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phone = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    const phoneErrors = watchErrors(phone);
    // The live server has no complete hour rolled up yet: answer it first as it is, then with hours.
    const real = await api('GET', '/fleet/health?range=24h');
    expect(real.status).toBe(200);
    const asked: string[] = [];
    await phone.route('**/api/v1/admin/fleet/health?*', async (route) => {
      const range = new URL(route.request().url()).searchParams.get('range') ?? '24h';
      asked.push(range);
      const n = range === '7d' ? 168 : 24;
      const to = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const hours = Array.from({ length: n }, (_, i) => ({
        hour: new Date(to - (n - i) * 3_600_000).toISOString(),
        online: 10 + (i % 5),
        offline: 2,
        alerting: i % 3,
      }));
      await route.fulfill({
        json: { range, from: hours[0]!.hour, to: new Date(to).toISOString(), hours },
      });
    });
    await phone.goto(`${server.url}/`);
    const section = phone.getByTestId('fleet-health');
    const chart = section.getByTestId('chart');
    await chart.locator('canvas').first().waitFor();
    expect(await chart.locator('[role="img"]').getAttribute('aria-label')).toBe('Devices per hour: 24 points');
    expect((await chart.boundingBox())!.width).toBeLessThanOrEqual(390);
    expect((await chart.locator('canvas').first().boundingBox())!.width).toBeLessThanOrEqual(390);
    await section.getByTestId('health-range-7d').tap();
    await until(async () => (await section.getAttribute('data-range')) === '7d', 5000, 'the 7 d range');
    await until(
      async () => (await chart.locator('[role="img"]').getAttribute('aria-label')) === 'Devices per hour: 168 points',
      5000,
      'the 7 d chart',
    );
    expect(await section.getByTestId('health-range-7d').getAttribute('aria-pressed')).toBe('true');
    expect(asked).toEqual(['24h', '7d']);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
    expect(phoneErrors).toEqual([]);
    await context.close();
  });
});

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

/**
 * Day-two pages in headless Chromium against the real standalone server: the audit log names devices
 * and admins as they are now and filters by a device picked by name.
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
});

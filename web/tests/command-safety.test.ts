import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    if (await check()) return;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Issue 15 in the console, in headless Chromium against the real server: a command to many devices
 * is confirmed by typing the count the server computed, a WIPE to many waits for a second admin,
 * a command not yet started can be cancelled, and API tokens are created once-shown and revoked.
 */
describe('command safety in the console', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  const devices: VirtualDevice[] = [];
  const notice = () => page.getByTestId('command-notice').textContent();

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start({}), launch()]);
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    for (const serial of ['SAF-0001', 'SAF-0002']) {
      const d = await new VirtualDevice(server.url, serial).enroll(await enrollmentToken(server.url, admin, { group: 'Safety' }));
      await d.heartbeat();
      devices.push(d);
    }
    context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
    page = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const bulk = async (type: string) => {
    await page.goto(`${server.url}/`);
    // Select all is disabled until rows are shown (checked before the list came, it selected nothing)
    await until(async () => (await page.getByTestId('device-row').count()) === 2, 10_000, 'both devices listed');
    await page.getByTestId('select-all').check();
    await page.getByTestId('bulk-command').click();
    await page.getByTestId('bulk-bar').getByTestId('command-type').selectOption(type);
    await page.getByTestId('bulk-bar').getByTestId('command-send').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    return dialog;
  };

  it('offers Select all only once the devices are listed', async () => {
    // the fleet's first answer held back: the table is on screen, its rows are not
    const fleet = (url: URL) => url.pathname === '/api/v1/admin/fleet';
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(fleet, async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${server.url}/`);
      const selectAll = page.getByTestId('select-all');
      await selectAll.waitFor();
      expect(await selectAll.isDisabled()).toBe(true);
      release();
      await until(async () => (await page.getByTestId('device-row').count()) === 2, 10_000, 'both devices listed');
      expect(await selectAll.isEnabled()).toBe(true);
    } finally {
      release();
      await page.unroute(fleet);
    }
  });

  it('shows the count the server computed and sends only once that number is typed', async () => {
    const dialog = await bulk('LOCK');
    await expect(dialog.getByTestId('confirm-count').textContent()).resolves.toContain('The server counted 2 devices');
    const send = dialog.getByRole('button', { name: 'Lock screen now' });
    expect(await send.isDisabled()).toBe(true);
    await dialog.getByTestId('confirm-input').fill('3');
    expect(await send.isDisabled()).toBe(true);
    await dialog.getByTestId('confirm-input').fill('2');
    await send.click();
    await until(async () => ((await notice()) ?? '').includes('Lock screen sent to 2 devices'), 5000, 'the notice');
    for (const d of devices) expect((await d.heartbeat()).map((e) => e.type)).toContain('LOCK');
  });

  it('turns a WIPE to many into a request: the requester may only withdraw it', async () => {
    const dialog = await bulk('WIPE');
    await dialog.getByTestId('confirm-input').fill('2');
    await dialog.getByRole('button', { name: 'Ask for approval' }).click();
    await until(async () => ((await notice()) ?? '').includes("waits for another admin's approval"), 5000, 'the approval notice');
    for (const d of devices) expect((await d.heartbeat()).map((e) => e.type)).not.toContain('WIPE');
    await page.goto(`${server.url}/approvals`);
    const row = page.getByTestId('approval-row').first();
    await row.waitFor();
    await expect(row.getAttribute('data-status')).resolves.toBe('pending');
    expect(await row.getByTestId('approve').count()).toBe(0); // not for one's own request
    await row.getByTestId('reject').click();
    await until(async () => (await row.getAttribute('data-status')) === 'rejected', 5000, 'the request rejected');
  });

  it('cancels a command the device has not started: it is never handed out', async () => {
    const [lobby] = devices;
    await page.goto(`${server.url}/devices/${lobby!.deviceId}`);
    await page.getByTestId('command-type').selectOption('RELAUNCH_APP');
    await page.getByTestId('command-send').click();
    const queued = page.locator('[data-type="RELAUNCH_APP"]');
    await queued.first().waitFor();
    await queued.first().getByTestId('command-cancel').click();
    await until(async () => (await queued.first().getAttribute('data-status')) === 'cancelled', 5000, 'the command cancelled');
    expect((await lobby!.heartbeat()).map((e) => e.type)).not.toContain('RELAUNCH_APP');
  });

  it('creates an API token shown once, and revokes it', async () => {
    await page.goto(`${server.url}/users`);
    await page.getByTestId('api-token-name').fill('pipeline');
    await page.getByTestId('create-api-token').click();
    const secret = await page.getByTestId('api-token-value').textContent();
    expect(secret).toMatch(/^mdmat_/);
    const res = await fetch(`${server.url}/api/v1/admin/releases`, { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(403); // releases:write only, not releases:read
    const row = page.getByTestId('api-token-row').filter({ hasText: 'pipeline' });
    await row.getByTestId('api-token-revoke').click();
    await until(async () => (await row.getAttribute('data-status')) === 'revoked', 5000, 'the token revoked');
    expect(errors).toEqual([]);
  });
});

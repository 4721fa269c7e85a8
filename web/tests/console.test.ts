import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, ROOT, StandaloneServer } from './helpers/server.js';

/**
 * The console in headless Chromium against the real standalone server serving the real build, with
 * devices speaking the real device protocol. What an operator sees is what is asserted.
 */
const SHOTS = process.env.SCREENSHOT_DIR ?? join(ROOT, 'web/test-results/screenshots');

/** Polls until `check` holds; returns the milliseconds it took. */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the admin console in a real browser', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let admin: string;
  let lobby: VirtualDevice;
  let checkout: VirtualDevice;
  let webhook: Server;
  const webhookBodies: string[] = [];

  const row = (p: Page, name: string) => p.getByTestId('device-row').filter({ hasText: name });

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        webhookBodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
    [server, browser] = await Promise.all([
      StandaloneServer.start({
        SWEEP_INTERVAL_SEC: '5',
        ALERT_HOLD_SEC: '0',
        // the webhook below is on loopback: alert channels may reach it only when allowed
        EGRESS_ALLOW_CIDRS: '127.0.0.1',
        DISCORD_WEBHOOK_HOSTS: '127.0.0.1',
      }),
      launch(),
    ]);
    await mkdir(SHOTS, { recursive: true });
    admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    checkout = await new VirtualDevice(server.url, 'CHK-0001', 'Tab A8').enroll(
      await enrollmentToken(server.url, admin, { group: 'Store 7' }),
    );
    await checkout.heartbeat();
    context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise((r) => webhook?.close(r));
  });

  it('signs in, and the session survives a reload', async () => {
    page = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    await expect(page.getByTestId('whoami').textContent()).resolves.toContain('admin@example.com');
    await page.reload();
    await page.getByTestId('whoami').waitFor();
    expect(page.url()).toBe(`${server.url}/`);
    await row(page, 'Tab A8 CHK-0001').waitFor();
    await until(async () => (await page.getByTestId('live-status').getAttribute('data-live')) === 'live', 5000, 'the live connection');
  });

  it('shows a device the moment it enrolls, and its battery change within 2 s of the heartbeat', async () => {
    lobby = new VirtualDevice(server.url, 'LOB-0042');
    await lobby.enroll(await enrollmentToken(server.url, admin, { group: 'Store 12' }));
    await until(async () => (await row(page, 'KioskPro 10 LOB-0042').count()) === 1, 2000, 'the enrolled device to appear');
    await expect(page.getByTestId('count-total').getByTestId('count-value').textContent()).resolves.toBe('2');

    lobby.battery = 76;
    await lobby.heartbeat();
    const first = await until(
      async () => (await row(page, 'LOB-0042').locator('[data-battery]').getAttribute('data-battery')) === '75',
      2000,
      'battery 75%',
    );
    lobby.battery = 41;
    const sent = performance.now();
    await lobby.heartbeat();
    await until(
      async () => (await row(page, 'LOB-0042').locator('[data-battery]').getAttribute('data-battery')) === '40',
      2000,
      'battery 40%',
    );
    const latency = performance.now() - sent;
    console.log(`heartbeat to screen: ${Math.round(first)} ms, ${Math.round(latency)} ms`);
    expect(latency).toBeLessThan(2000);
    await expect(row(page, 'LOB-0042').locator('[data-app]').getAttribute('data-app')).resolves.toBe('running');
  });

  it('searches, filters and sorts the fleet, and "last seen" ticks without a reload', async () => {
    await page.getByTestId('search').fill('chk');
    await until(async () => (await page.getByTestId('device-row').count()) === 1, 2000, 'search to narrow');
    await page.getByTestId('search').fill('');
    await page.getByTestId('filter-group').selectOption('Store 12');
    await until(
      async () =>
        (await page.getByTestId('device-row').allTextContents()).join().includes('LOB-0042') &&
        (await page.getByTestId('device-row').count()) === 1,
      2000,
      'group filter',
    );
    await page.getByTestId('filter-group').selectOption('');
    await page.getByTestId('sort-battery').click(); // battery, highest first
    const names = async () => (await page.getByTestId('device-link').allTextContents()).map((s) => s.trim());
    await until(async () => (await names())[0] === 'Tab A8 CHK-0001', 2000, 'sort by battery descending');
    await page.getByTestId('sort-battery').click();
    await until(async () => (await names())[0] === 'KioskPro 10 LOB-0042', 2000, 'sort by battery ascending');

    const seen = row(page, 'CHK-0001').locator('time');
    const before = await seen.textContent();
    await until(async () => (await seen.textContent()) !== before, 15_000, '"last seen" to tick');
    await page.screenshot({ path: join(SHOTS, 'fleet.png') });
  });

  it('sends a command to many devices at once, after a confirmation', async () => {
    await page.getByTestId('select-all').check();
    await expect(page.getByTestId('selected-count').textContent()).resolves.toBe('2');
    await page.getByTestId('bulk-command').click();
    await page.getByTestId('bulk-bar').getByTestId('command-type').selectOption('PING');
    await page.getByTestId('bulk-bar').getByTestId('command-send').click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Ping now' }).click();
    await until(
      async () => ((await page.getByTestId('command-notice').textContent()) ?? '').includes('Ping sent to 2 devices'),
      5000,
      'bulk notice',
    );
    expect((await lobby.heartbeat()).map((e) => e.type)).toContain('PING');
    expect((await checkout.heartbeat()).map((e) => e.type)).toContain('PING');
  });

  it('shows a device page with charts, and a RELAUNCH_APP that the device runs shows as succeeded', async () => {
    for (const level of [39, 38]) {
      lobby.battery = level;
      await lobby.heartbeat();
    }
    await row(page, 'LOB-0042').getByTestId('device-link').click();
    await page.waitForURL(/\/devices\//);
    await expect(page.getByTestId('device-name').textContent()).resolves.toBe('KioskPro 10 LOB-0042');
    await until(async () => (await page.getByTestId('charts').locator('canvas').count()) >= 3, 5000, 'three charts');

    await page.getByTestId('command-type').selectOption('RELAUNCH_APP');
    await page.getByTestId('command-send').click();
    await page
      .getByTestId('command-row')
      .filter({ has: page.locator('[data-type="RELAUNCH_APP"]') })
      .or(page.locator('[data-type="RELAUNCH_APP"]'))
      .first()
      .waitFor();
    const envelopes = await lobby.heartbeat();
    const relaunch = envelopes.find((e) => e.type === 'RELAUNCH_APP');
    expect(relaunch?.sig).toMatch(/^[\w-]{43}$/);
    await lobby.report(relaunch!.cid, 'succeeded', 'app in front');
    for (const e of envelopes.filter((x) => x.type === 'PING')) await lobby.report(e.cid, 'succeeded');
    await until(
      async () => (await page.locator('[data-type="RELAUNCH_APP"][data-status="succeeded"]').count()) === 1,
      5000,
      'RELAUNCH_APP succeeded',
    );

    // A destructive command waits for a confirmation, and Cancel sends nothing.
    await page.getByTestId('command-type').selectOption('REBOOT');
    await page.getByTestId('command-send').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('This cannot be undone');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('[data-type="REBOOT"]').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'device.png'), fullPage: true });
  });

  it('creates an enrollment token and shows its ADB scripts and the QR code right away', async () => {
    await page.getByRole('link', { name: 'Enrollment' }).click();
    await page.getByTestId('token-label').fill('Front desk');
    await page.getByTestId('token-group').fill('Store 12');
    await page.getByTestId('create-token').click();
    const token = (await page.getByTestId('token-value').textContent())!.trim();
    expect(token).toMatch(/^mdmet_[\w-]{43}$/);
    await expect(page.getByTestId('run-command').textContent()).resolves.toBe(`sh enroll.sh ${token}`);
    await until(async () => ((await page.getByTestId('adb-script').textContent()) ?? '').startsWith('#!/bin/sh'), 5000, 'the sh script');
    await page.getByTestId('shell-ps1').click();
    await until(
      async () => ((await page.getByTestId('adb-script').textContent()) ?? '').includes('PowerShell'),
      5000,
      'the PowerShell script',
    );
    await page.getByTestId('qr-code').locator('svg path').first().waitFor();
    const qr = JSON.parse((await page.getByTestId('qr-json').textContent())!);
    expect(qr['android.app.extra.PROVISIONING_ADMIN_EXTRAS_BUNDLE']).toEqual({
      server_url: expect.stringMatching(/^http/),
      enrollment_token: token,
    });
    expect(qr['android.app.extra.PROVISIONING_DEVICE_ADMIN_COMPONENT_NAME']).toMatch(/\/\.?\w*AdminReceiver$/);
    await page.screenshot({ path: join(SHOTS, 'enrollment.png'), fullPage: true });
    // The token works exactly once, as the page says.
    const kiosk = await new VirtualDevice(server.url, 'FD-0001').enroll(token);
    expect(kiosk.deviceId).toMatch(/-/);
    await page.getByRole('button', { name: 'Done' }).click();
    // Used, so no longer among the active tokens.
    await until(
      async () => (await page.getByTestId('token-row').filter({ hasText: 'Front desk' }).count()) === 0,
      5000,
      'the used token to leave the list',
    );
    await page.getByLabel('Status').selectOption('used');
    await page.getByTestId('token-row').filter({ hasText: 'Front desk' }).getByText('used').waitFor();
  });

  it('acknowledges an alert raised by a device whose app went down', async () => {
    checkout.appRunning = false;
    await checkout.heartbeat();
    await page.getByRole('link', { name: 'Alerts' }).click();
    const alert = page.locator('[data-testid="alert"][data-kind="app_down"]').filter({ hasText: 'CHK-0001' });
    await until(
      async () => {
        if ((await page.locator('[data-kind="app_down"]').count()) > 0) return true;
        await page.getByRole('button', { name: 'All' }).click();
        await page.getByRole('button', { name: 'Open' }).click();
        return false;
      },
      30_000,
      'the app_down alert',
    );
    await alert.getByTestId('ack').click();
    await alert.getByTestId('acknowledged').waitFor();
    await expect(alert.getByTestId('acknowledged').textContent()).resolves.toContain('admin@example.com');
  });

  it('filters the audit log by action and by device', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByTestId('audit-row').first().waitFor();
    await page.getByTestId('audit-action').selectOption('sent_command');
    await until(
      async () => {
        const actions = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
        return actions.length > 0 && actions.every((a) => a === 'sent_command');
      },
      5000,
      'only sent_command entries',
    );
    await page.getByTestId('audit-action').selectOption('');
    await page.getByTestId('audit-device').fill(checkout.deviceId);
    await until(
      async () => {
        const actions = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
        return actions.includes('enrolled_device') && actions.includes('acknowledged_alert') && !actions.includes('logged_in');
      },
      5000,
      "the device's own entries",
    );
  });

  it('saves a Discord channel in settings and its test button delivers a message', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByTestId('save-settings').waitFor();
    const { port } = webhook.address() as { port: number };
    await page.getByLabel('Discord').check();
    await page.getByPlaceholder('https://discord.com/api/webhooks/…').fill(`http://127.0.0.1:${port}/webhook`);
    await page.getByTestId('save-settings').click();
    await page.getByText('Saved. The next sweep uses these settings.').waitFor();
    await page.getByTestId('test-channels').click();
    await page.getByTestId('test-results').getByText('discord: delivered').waitFor();
    expect(webhookBodies.join()).toContain('Fleet MDM test message');
  });

  it('manages users: a new viewer signs in with the password shown once and sees no command controls', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByTestId('user-email').fill('night.viewer@example.com');
    await page.getByTestId('user-role').selectOption('viewer');
    await page.getByTestId('create-user').click();
    const password = (await page.getByTestId('password-value').textContent())!.trim();
    expect(password).toMatch(/^[\w-]{24}$/);
    await page.getByTestId('user-row').filter({ hasText: 'night.viewer@example.com' }).waitFor();

    const viewerContext = await browser.newContext();
    const viewer = await signIn(viewerContext, server.url, 'night.viewer@example.com', password);
    const viewerErrors = watchErrors(viewer);
    // A server that makes a generated password be changed first gets the form, then the fleet.
    const change = viewer.getByTestId('change-password');
    await change.or(row(viewer, 'LOB-0042')).first().waitFor();
    if (await change.isVisible()) {
      await change.getByLabel('Password you signed in with').fill(password);
      await change.getByLabel(/^New password \(/).fill('night viewer password');
      await change.getByLabel('New password again').fill('night viewer password');
      await change.getByRole('button', { name: 'Save and continue' }).click();
    }
    await row(viewer, 'LOB-0042').waitFor();
    expect(await viewer.getByTestId('select-all').count()).toBe(0);
    expect(await viewer.locator('input[type="checkbox"]').count()).toBe(0);
    await row(viewer, 'LOB-0042').getByTestId('device-link').click();
    await viewer.getByTestId('device-name').waitFor();
    expect(await viewer.getByTestId('command-send').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: /Rename/ }).count()).toBe(0);
    await viewer.getByRole('link', { name: 'Enrollment' }).click();
    await viewer.getByRole('heading', { name: 'Tokens' }).waitFor();
    expect(await viewer.getByTestId('create-token').count()).toBe(0);
    expect(await viewer.getByRole('link', { name: 'Users' }).count()).toBe(0);
    expect(viewerErrors).toEqual([]);

    // The admin disables the viewer: their next request sends them to the sign-in page.
    await page.getByTestId('user-row').filter({ hasText: 'night.viewer@example.com' }).getByRole('button', { name: 'Disable' }).click();
    await page.getByTestId('user-row').filter({ hasText: 'night.viewer@example.com' }).getByText('Disabled').waitFor();
    await viewer.getByRole('link', { name: 'Audit log' }).click();
    await viewer.waitForURL(/\/login/);
    await viewerContext.close();
  });

  it('fits a small tablet in portrait: the navigation folds into a menu, and the keyboard reaches the controls', async () => {
    const tabletContext = await browser.newContext({ viewport: { width: 700, height: 1000 } });
    const tablet = await signIn(tabletContext, server.url, ADMIN.email, ADMIN.password);
    const tabletErrors = watchErrors(tablet);
    const nav = tablet.getByRole('navigation', { name: 'Main' });
    await row(tablet, 'LOB-0042').waitFor();
    expect(await nav.isVisible()).toBe(false);
    await tablet.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Alerts' }).click();
    await tablet.waitForURL(/\/alerts/);
    expect(await nav.isVisible()).toBe(false);
    await tablet.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Fleet', exact: true }).click();
    await row(tablet, 'LOB-0042').waitFor();
    // Tab from the top of the page reaches the search box, a sort button and a device link.
    const reached = new Set<string>();
    await tablet.locator('body').focus();
    for (let i = 0; i < 40; i++) {
      await tablet.keyboard.press('Tab');
      reached.add(await tablet.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? ''));
    }
    expect([...reached]).toEqual(expect.arrayContaining(['search', 'sort-name', 'device-link']));
    await tablet.keyboard.press('Shift+Tab');
    expect(tabletErrors).toEqual([]);
    await tabletContext.close();
  });

  it('says the live connection dropped while the server restarts, and catches up once it is back', async () => {
    await page.getByRole('link', { name: 'Fleet', exact: true }).click();
    await row(page, 'LOB-0042').waitFor();
    await server.stop();
    await page.getByTestId('reconnect-banner').waitFor({ timeout: 10_000 });
    await server.boot();
    await page.getByTestId('reconnect-banner').waitFor({ state: 'hidden', timeout: 20_000 });
    await until(async () => (await page.getByTestId('live-status').getAttribute('data-live')) === 'live', 5000, 'live again');
    lobby.battery = 12;
    await lobby.heartbeat();
    await until(
      async () => (await row(page, 'LOB-0042').locator('[data-battery]').getAttribute('data-battery')) === '10',
      2000,
      'an update after the restart',
    );
  });

  it('signs out, and a reload then stays signed out', async () => {
    await page.getByTestId('logout').click();
    await page.waitForURL(/\/login/);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(errors).toEqual([]);
  });
});

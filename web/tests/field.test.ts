import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, ROOT, StandaloneServer } from './helpers/server.js';

/**
 * What a new operator of a real fleet ran into (issue 18), each checked in Chromium against the real
 * standalone server: the first device, a 390 px phone, trouble first, plain form errors, contrast.
 */
const SHOTS = process.env.SCREENSHOT_DIR ?? join(ROOT, 'web/test-results/screenshots');

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    if (await check()) return;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** WCAG contrast of an element's text against the first opaque background behind it, colours read back through a canvas. */
function contrast(el: Locator): Promise<number> {
  return el.evaluate(async (node) => {
    // Colours change with a short transition (a menu item turning active): measure the end state.
    const finite = document.getAnimations().filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)));
    await Promise.all(finite.map((a) => a.finished.catch(() => undefined)));
    const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
    const rgba = (css: string) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = '#000';
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      return [...ctx.getImageData(0, 0, 1, 1).data] as [number, number, number, number];
    };
    let bg: number[] | null = null;
    for (let n: Element | null = node; n && !bg; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] === 255) bg = c;
    }
    bg ??= [255, 255, 255, 255];
    const fg = rgba(getComputedStyle(node).color);
    const lum = ([r, g, b]: number[]) =>
      [r!, g!, b!]
        .map((v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i]!, 0);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return (a! + 0.05) / (b! + 0.05);
  });
}

describe('day two for an operator (issue 18)', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let admin: string;
  let fine: VirtualDevice;
  let quiet: VirtualDevice;
  let crashed: VirtualDevice;

  const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const row = (p: Page, name: string) => p.getByTestId('device-row').filter({ hasText: name });

  beforeAll(async () => {
    [server, browser] = await Promise.all([
      StandaloneServer.start({ SWEEP_INTERVAL_SEC: '5', ALERT_HOLD_SEC: '0', ALERT_OFFLINE_AFTER_SEC: '30' }),
      launch(),
    ]);
    fine = new VirtualDevice(server.url, 'FINE-0001', 'Tab A8');
    quiet = new VirtualDevice(server.url, 'QUIET-0002', 'Tab A8');
    crashed = new VirtualDevice(server.url, 'CRASH-0003', 'Tab A8');
    await mkdir(SHOTS, { recursive: true });
    admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the first device ever enrolled without a reload', async () => {
    page = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    await page.getByTestId('empty-state').filter({ hasText: 'No devices yet' }).waitFor();
    // nothing to select yet: "select all" is not offered, or disabled
    const selectAll = page.getByTestId('select-all');
    expect((await selectAll.count()) === 0 || (await selectAll.isDisabled())).toBe(true);
    await fine.enroll(await enrollmentToken(server.url, admin, { group: 'Store 7' }));
    fine.battery = 36;
    fine.lastFrameAgeMs = 40_916;
    await fine.heartbeat();
    await until(async () => (await row(page, 'FINE-0001').count()) === 1, 5000, 'the first device to appear');
    expect(await page.getByTestId('empty-state').count()).toBe(0);
    expect(await selectAll.isEnabled()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('rounds the battery the same way in the list and on the device page, and says the last frame in seconds', async () => {
    await page.goto(`${server.url}/`); // each test from a fresh page load, so one finding cannot hide another
    await until(
      async () => (await row(page, 'FINE-0001').locator('[data-battery]').getAttribute('data-battery')) === '35',
      3000,
      'battery 35',
    );
    await row(page, 'FINE-0001').getByTestId('device-link').click();
    await page.getByTestId('device-name').waitFor();
    expect(await page.getByTestId('device-battery').textContent()).toContain('35%');
    expect(await page.locator('header [data-battery]').getAttribute('data-battery')).toBe('35');
    const state = (await page.getByTestId('device-state').textContent()) ?? '';
    expect(state).toContain('last frame 41 s ago');
    expect(state).not.toMatch(/\d+ ms ago/);
    await page.goBack();
  });

  it('puts trouble first: cards coloured by meaning, severity order, offline greyed with "last known" state', async () => {
    await page.goto(`${server.url}/`);
    // Before any trouble, no card is red or amber.
    await row(page, 'FINE-0001').waitFor();
    expect(await page.getByTestId('count-offline').getAttribute('class')).toContain('preset-tonal-surface');
    expect(await page.getByTestId('count-online').getAttribute('class')).toContain('preset-tonal-success');

    fine.lastFrameAgeMs = 16; // its frame age of 41 s opened app_frozen: healthy again, the alert resolves
    await fine.heartbeat();
    await quiet.enroll(await enrollmentToken(server.url, admin));
    await quiet.heartbeat(); // ... and then silence: offline after 30 s
    await crashed.enroll(await enrollmentToken(server.url, admin));
    crashed.appRunning = false;
    await crashed.heartbeat();
    const keepBeating = setInterval(() => void Promise.all([fine.heartbeat(), crashed.heartbeat()]).catch(() => {}), 5000);
    try {
      await until(
        async () => (await row(page, 'QUIET-0002').locator('[data-status]').getAttribute('data-status')) === 'offline',
        60_000,
        'the quiet device to go offline',
      );
      await until(async () => ((await row(page, 'CRASH-0003').textContent()) ?? '').includes('App down'), 15_000, 'the app_down alert');
      await until(
        async () => (await row(page, 'FINE-0001').locator('.badge', { hasText: 'App frozen' }).count()) === 0,
        15_000,
        'app_frozen to resolve',
      );
    } finally {
      clearInterval(keepBeating);
    }
    expect(await page.getByTestId('count-offline').getAttribute('class')).toMatch(/preset-tonal-(error|warning)/);
    const names = (await page.getByTestId('device-link').allTextContents()).map((s) => s.trim());
    expect(names.indexOf('Tab A8 FINE-0001')).toBe(names.length - 1);
    expect(names.indexOf('Tab A8 QUIET-0002')).toBeLessThan(names.indexOf('Tab A8 FINE-0001'));
    expect(names.indexOf('Tab A8 CRASH-0003')).toBeLessThan(names.indexOf('Tab A8 FINE-0001'));

    const offline = row(page, 'QUIET-0002');
    expect(await offline.locator('[data-app]').textContent()).not.toMatch(/^\s*Running\s*$/);
    expect(await offline.locator('[data-app]').getAttribute('data-last-known')).toBe('true');
    expect(await offline.locator('[data-battery]').getAttribute('data-last-known')).toBe('true');
    expect(await offline.locator('[data-app]').getAttribute('class')).not.toContain('success');
    for (const text of await page.getByTestId('device-row').allTextContents()) {
      if (text.includes('App down')) expect(text).not.toContain('Running');
    }
    await page.screenshot({ path: join(SHOTS, 'fleet-trouble-first.png') });
  }, 120_000);

  it('moves through the fleet with the arrow keys and opens a device with Enter', async () => {
    const links = page.getByTestId('device-link');
    const focused = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    const names = (await links.allTextContents()).map((t) => t.trim());
    await links.first().focus();
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe(names[1]);
    await page.keyboard.press('End');
    expect(await focused()).toBe(names.at(-1));
    await page.keyboard.press('Home');
    expect(await focused()).toBe(names[0]);
    await page.keyboard.press('Enter');
    await page.getByTestId('device-name').waitFor();
    expect(await page.getByTestId('device-name').textContent()).toBe(names[0]);
    await page.goBack();
  });

  it('checks forms before sending, in plain words, with the field highlighted, and clears stale errors', async () => {
    await nav(page, 'Enrollment').click();
    const group = page.getByTestId('token-group');
    await group.fill('Store #12');
    const before = await page.getByTestId('token-row').count();
    await page.getByTestId('create-token').click();
    const problem = page.getByTestId('field-error');
    await problem.waitFor();
    expect(await problem.textContent()).toContain('cannot be a group name');
    expect(await group.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByTestId('token-row').count()).toBe(before);
    await group.fill('Store 12');
    expect(await problem.count()).toBe(0);
    expect(await group.getAttribute('aria-invalid')).toBeNull();
    await page.getByTestId('token-max-uses').fill('');
    await page.getByTestId('create-token').click();
    expect(await page.getByTestId('field-error').textContent()).toContain('Enter a number');
    expect((await page.locator('main').textContent()) ?? '').not.toMatch(/invalid body|received null/);

    await nav(page, 'Settings').click();
    const offline = page.getByTestId('threshold-offlineAfterSec');
    await offline.fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByTestId('field-error').waitFor();
    expect(await page.getByTestId('field-error').textContent()).toContain('at least 30');
    expect(await offline.getAttribute('aria-invalid')).toBe('true');
    await offline.fill('30');
    expect(await page.getByTestId('field-error').count()).toBe(0);
    expect(await page.getByTestId('error').count()).toBe(0);
  });

  it('shows devices by name in the audit log and filters by a name picked from the suggestions', async () => {
    await nav(page, 'Audit log').click();
    await page.getByTestId('audit-row').first().waitFor();
    const device = page.getByTestId('audit-device');
    await device.fill('Tab A8 FINE-0001');
    await until(
      async () => {
        const actions = await page.getByTestId('audit-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
        return actions.length > 0 && actions.includes('enrolled_device') && !actions.includes('logged_in');
      },
      5000,
      "the named device's entries",
    );
    expect(new Set(await page.getByTestId('audit-device-link').allTextContents())).toEqual(new Set(['Tab A8 FINE-0001']));
    await device.fill('No such kiosk');
    expect(await page.getByTestId('field-error').textContent()).toContain('No device is called');
    await device.fill('');
  });

  it('has text contrast of at least 4.5:1 on primary buttons, the active menu item and the red "Down" badge', async () => {
    await nav(page, 'Enrollment').click();
    const measured = {
      primaryButton: await contrast(page.getByTestId('create-token')),
      activeNav: await contrast(page.getByRole('navigation', { name: 'Main' }).locator('[aria-current="page"]')),
      downBadge: 0,
    };
    await nav(page, 'Fleet').click();
    measured.downBadge = await contrast(row(page, 'CRASH-0003').locator('[data-app="down"]'));
    console.log('contrast', measured);
    for (const [what, ratio] of Object.entries(measured)) expect(ratio, what).toBeGreaterThanOrEqual(4.5);
    expect(errors).toEqual([]);
  });

  it('works on a 390 px phone: signs in, opens a device from the list and sends it a PING', async () => {
    const phoneContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const phone = await signIn(phoneContext, server.url, ADMIN.email, ADMIN.password);
    const phoneErrors = watchErrors(phone);
    const fitsWidth = () =>
      phone.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        main: (document.querySelector('main')?.scrollWidth ?? 0) - (document.querySelector('main')?.clientWidth ?? 0),
      }));
    const link = row(phone, 'FINE-0001').getByTestId('device-link');
    await link.waitFor();
    const box = (await link.boundingBox())!;
    expect(box.width).toBeGreaterThan(80);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(await phone.getByTestId('fleet-table').getAttribute('data-layout')).toBe('cards');
    expect(await fitsWidth()).toEqual({ page: 390, main: 0 });
    await phone.screenshot({ path: join(SHOTS, 'phone-fleet.png') });

    await link.tap();
    await phone.getByTestId('device-name').waitFor();
    await phone.getByTestId('chart').first().locator('canvas').first().waitFor();
    for (const chart of await phone.getByTestId('chart').all()) expect((await chart.boundingBox())!.width).toBeLessThanOrEqual(390);
    expect(await fitsWidth()).toEqual({ page: 390, main: 0 });
    await phone.getByTestId('command-type').selectOption('PING');
    await phone.getByTestId('command-send').tap();
    await until(
      async () => ((await phone.getByTestId('command-notice').textContent()) ?? '').includes('Ping sent to 1 device'),
      5000,
      'the PING notice',
    );
    expect((await fine.heartbeat()).map((e) => e.type)).toContain('PING');
    await phone.screenshot({ path: join(SHOTS, 'phone-device.png'), fullPage: true });

    // Every page fits the screen and its menu opens over it.
    for (const name of ['Alerts', 'Enrollment', 'Audit log', 'Settings', 'Users']) {
      await phone.getByRole('button', { name: 'Menu' }).tap();
      await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).tap();
      await phone.locator('main h1').first().waitFor();
      expect({ name, ...(await fitsWidth()) }).toEqual({ name, page: 390, main: 0 });
    }
    expect(phoneErrors).toEqual([]);
    await phoneContext.close();
  }, 90_000);
});

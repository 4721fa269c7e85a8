import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

/**
 * The fleet view's server mode in headless Chromium: the threshold lowered to 50 and 120 devices
 * enrolled, so the console filters, sorts and pages on the server (docs/fleet-query.md).
 */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  for (;;) {
    if (await check()) return;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the fleet view in server mode', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const requests: string[] = [];
  const devices = new Map<string, VirtualDevice>();
  const names = async () => page.getByTestId('device-link').allTextContents();
  const shown = async () => (await page.getByTestId('shown-count').textContent())?.trim();

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start({ CONSOLE_SERVER_QUERY_ABOVE: '50' }), launch()]);
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    const east = await enrollmentToken(server.url, admin, { group: 'East', maxUses: 60 });
    const west = await enrollmentToken(server.url, admin, { group: 'West', maxUses: 60 });
    // SV-0001..SV-0120: odd ones East, even ones West; every tenth one's app is down.
    for (let i = 1; i <= 120; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, k) => {
          const n = i + k;
          const d = await new VirtualDevice(server.url, `SV-${String(n).padStart(4, '0')}`).enroll(n % 2 ? east : west);
          devices.set(d.serial, d);
          d.appRunning = n % 10 !== 0;
          await d.heartbeat();
        }),
      );
    }
    const context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
    page = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    page.on('request', (r) => requests.push(decodeURIComponent(r.url())));
    await page.reload();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('asks the server for a window in severity order, and the next windows as the table scrolls', async () => {
    await until(async () => (await shown()) === 'Showing 120 of 120 devices', 10_000, 'the counts');
    await expect(page.getByTestId('count-app_down').getByTestId('count-value').textContent()).resolves.toBe('12');
    // Trouble first: the twelve devices whose app is down lead the default order.
    const first = page.getByTestId('device-row').first();
    await expect(first.locator('[data-app]').getAttribute('data-app')).resolves.toBe('down');
    // The first window only: not the whole fleet, and the fleet was not loaded page after page.
    expect(requests.some((u) => /\/admin\/fleet\/query\?.*limit=100/.test(u))).toBe(true);
    expect(requests.some((u) => /\/admin\/fleet\?.*cursor=/.test(u))).toBe(false);
    expect(requests.some((u) => /\/admin\/fleet\/query\?.*cursor=/.test(u))).toBe(false);

    // Scroll to the end: the next window comes, and the 120th row exists.
    await until(
      async () => {
        await page.getByTestId('fleet-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
        return (await page.locator('[aria-rowindex="121"]').count()) === 1;
      },
      10_000,
      'the last row',
    );
    expect(requests.some((u) => /\/admin\/fleet\/query\?.*cursor=/.test(u))).toBe(true);
    await page.getByTestId('fleet-scroll').evaluate((el) => (el.scrollTop = 0));
  });

  it('filters by group on the server and counts the matches', async () => {
    await page.getByTestId('filter-group').selectOption('West');
    const groups = () => page.getByTestId('device-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.group));
    await until(
      async () => (await shown()) === 'Showing 60 of 120 devices' && (await groups()).every((g) => g === 'West'),
      10_000,
      '60 West devices',
    );
    expect(requests.some((u) => /\/admin\/fleet\/query\?.*group=West/.test(u))).toBe(true);
    const serials = (await names()).map((n) => Number(/SV-(\d+)/.exec(n)![1]));
    expect(serials.length).toBeGreaterThan(0);
    expect(serials.every((n) => n % 2 === 0)).toBe(true);
  });

  it('sorts by name on the server, both ways', async () => {
    await page.getByTestId('sort-name').click();
    await until(async () => (await names())[0] === 'KioskPro 10 SV-0002', 10_000, 'the first West device by name');
    const asc = await names();
    expect(asc).toEqual([...asc].sort());
    await page.getByTestId('sort-name').click();
    await until(async () => (await names())[0] === 'KioskPro 10 SV-0120', 10_000, 'the last West device first');
  });

  it('searches a serial prefix, and clearing the filters gives the whole fleet back', async () => {
    await page.getByTestId('filter-group').selectOption('');
    await page.getByTestId('search').fill('sv-011');
    await until(
      async () => (await shown()) === 'Showing 10 of 120 devices' && (await names()).every((n) => n.includes('SV-011')),
      10_000,
      'ten matches',
    );
    expect(await names()).toHaveLength(10);
    await page.getByTestId('search').fill('');
    await until(async () => (await shown()) === 'Showing 120 of 120 devices', 10_000, 'the whole fleet');
  });

  it('patches a row on screen with its live document, without asking the server again', async () => {
    // Still by name, descending: SV-0120 is the first row.
    await until(async () => (await names())[0] === 'KioskPro 10 SV-0120', 10_000, 'SV-0120 first');
    const battery = () => page.getByTestId('device-row').first().locator('[data-battery]').getAttribute('data-battery');
    expect(await battery()).not.toBe('30');
    const asked = requests.filter((u) => u.includes('/admin/fleet/query')).length;
    const d = devices.get('SV-0120')!;
    d.battery = 33;
    await d.heartbeat();
    await until(async () => (await battery()) === '30', 10_000, 'battery 30% on screen');
    expect(requests.filter((u) => u.includes('/admin/fleet/query')).length).toBe(asked);
    expect(errors).toEqual([]);
  });
});

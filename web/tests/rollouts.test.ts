import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, ROOT, StandaloneServer } from './helpers/server.js';

/**
 * The Rollouts page in headless Chromium against the real server (its tick every second): an
 * operator starts a rollout of release 2 over two devices on release 1; the device that gets it
 * reports the app down, the gate fails, and the page shows why with the numbers; then promote and abort.
 */
const PACKAGE = 'dev.fleetmdm.agent';

describe('the Rollouts page in a real browser', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let devices: VirtualDevice[];
  let beating: NodeJS.Timeout | undefined;
  const releases: Record<string, string> = {};

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start({ SWEEP_INTERVAL_SEC: '1' }), launch()]);
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    for (const name of ['agent-1', 'agent-2']) {
      const res = await fetch(`${server.url}/api/v1/admin/releases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/vnd.android.package-archive' },
        body: await readFile(join(ROOT, 'docs/vectors/apk', `${name}.apk`)),
      });
      releases[name] = ((await res.json()) as { id: string }).id;
    }
    devices = [];
    for (const serial of ['ROLL-1', 'ROLL-2']) {
      const d = await new VirtualDevice(server.url, serial).enroll(await enrollmentToken(server.url, admin));
      // the only signed fixtures are releases of the agent package: the scripted device runs them as its
      // app and as its agent, so a rollout of that package counts the agent's versionCode
      d.appPackage = PACKAGE;
      d.appVersionCode = 1;
      d.agentVersionCode = 1;
      await d.heartbeat();
      devices.push(d);
    }
    // the devices beat every half second and install what they are sent; version 2 crashes on start
    const beat = async () => {
      for (const d of devices) {
        for (const e of await d.heartbeat()) {
          const params = JSON.parse(e.params) as { versionCode?: number };
          if (e.type === 'INSTALL_APK' && params.versionCode) {
            d.appVersionCode = d.agentVersionCode = params.versionCode;
            d.appRunning = params.versionCode !== 2;
          }
          await d.report(e.cid, 'succeeded');
        }
      }
    };
    const loop = () => {
      beating = setTimeout(() => void beat().finally(() => beating && loop()), 500);
    };
    loop();
  });
  afterAll(async () => {
    clearTimeout(beating);
    beating = undefined;
    await browser?.close();
    await server?.stop();
  });

  it('starts a rollout from the form, and shows its waves', async () => {
    page = await signIn(await browser.newContext({ viewport: { width: 1280, height: 900 } }), server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    page.on('dialog', (d) => void d.accept());
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rollouts' }).click();
    await page.waitForURL(/\/rollouts$/);
    const form = page.getByTestId('rollout-form');
    await form.locator('input[name="name"]').fill('kiosk 2');
    await form.locator('select[name="from"]').selectOption(releases['agent-1']!);
    await form.locator('select[name="to"]').selectOption(releases['agent-2']!);
    await form.locator('input[name="waves"]').fill('50, 100');
    await form.locator('input[name="soak"]').fill('0.1');
    await page.getByTestId('start-rollout').click();
    await page.getByRole('status').filter({ hasText: 'Started kiosk 2: 2 devices in 2 waves.' }).waitFor();
    // the notice comes from the start's answer; the rollout and its waves from the reload after it
    const rollout = page.getByTestId('rollout').first();
    await expect.poll(() => rollout.getByTestId('wave').count()).toBe(2);
  });

  it('shows the failed gate with the numbers that decided it', async () => {
    const paused = page.locator('[data-testid="rollout"][data-state="paused"]');
    await paused.waitFor({ timeout: 30_000 });
    await expect(paused.getByTestId('paused-reason').textContent()).resolves.toMatch(/wave 1 failed its gate: app down % 100 > 0 \+ 5/);
    const first = paused.locator('[data-testid="wave"]').first();
    expect(await first.getAttribute('data-state')).toBe('failed');
    const text = await first.textContent();
    expect(text).toContain('B: 1 dev · down 100%');
    expect(text).toContain('A: 1 dev · down 0%');
  });

  it('promotes the failed wave by hand, then aborts', async () => {
    await page.getByRole('button', { name: 'Promote wave' }).click();
    await page.getByRole('status').filter({ hasText: 'kiosk 2: running.' }).waitFor();
    // the notice comes from the promote's answer; the waves from the reload after it
    await expect.poll(() => page.locator('[data-testid="wave"]').first().getAttribute('data-state')).toBe('passed');
    await page.getByRole('button', { name: 'Abort' }).click();
    await page.locator('[data-testid="rollout"][data-state="aborted"]').waitFor();
    expect(errors).toEqual([]);
  });
});

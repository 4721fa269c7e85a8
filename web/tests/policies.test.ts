import { createHash } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

/**
 * The Policies page in headless Chromium against the real server: an admin edits a group's policy
 * (the client refuses a bad zone and a backwards window before the server sees them), previews the
 * devices it changes, saves, reads the version's diff; a scripted device then converges (protocol
 * v2) and the device and fleet pages show it compliant.
 */
describe('the Policies page in a real browser', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let device: VirtualDevice;

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start(), launch()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    device = await new VirtualDevice(server.url, 'POL-0001').enroll(await enrollmentToken(server.url, admin, { group: 'Store 9' }));
    await device.heartbeat();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('edits a group policy with client checks, previews the devices it changes, saves and shows the diff', async () => {
    page = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).click();
    await page.waitForURL(/\/policies$/);
    const target = page.getByTestId('policy-target');
    await target.locator('option', { hasText: 'Store 9' }).waitFor({ state: 'attached' });
    await target.selectOption({ label: 'Group: Store 9 (1)' });
    // the form is busy until the group's layer has loaded; what is typed after that is kept
    await page.locator('[data-testid="policy-form"][aria-busy="false"]').waitFor();
    await expect(page.getByTestId('policy-version').textContent()).resolves.toContain('Not set yet');

    await page.getByTestId('policy-screen-timeout').fill('120');
    await page.getByTestId('policy-timezone').fill('Mars/Olympus');
    await page.getByTestId('policy-timezone-error').waitFor();
    expect(await page.getByTestId('policy-save').isDisabled()).toBe(true);
    await page.getByTestId('policy-timezone').fill('Europe/Berlin');
    await page.getByTestId('policy-update-type').selectOption('windowed');
    await page.getByTestId('policy-window-start').fill('04:00');
    await page.getByTestId('policy-window-end').fill('02:00');
    await page.getByTestId('policy-window-error').waitFor();
    expect(await page.getByTestId('policy-save').isDisabled()).toBe(true);
    await page.getByTestId('policy-window-end').fill('05:30');
    await page.getByTestId('policy-set-restrictions').check();
    await page.getByTestId('restriction-no_safe_boot').check();
    await page.getByTestId('restriction-no_factory_reset').check();

    await page.getByTestId('policy-preview').click();
    await expect(page.getByTestId('policy-preview-result').textContent()).resolves.toContain('1 device would change: KioskPro 10 POL-0001');
    await page.getByTestId('policy-save').click();
    await expect(page.getByTestId('policy-saved').textContent()).resolves.toBe('Saved as version 1.');
    await page.getByTestId('policy-version').filter({ hasText: 'Version 1' }).waitFor();
    await page.getByTestId('policy-version-row').getByRole('button', { name: 'v1' }).click();
    const diff = await page.getByTestId('policy-diff').textContent();
    expect(diff).toContain('screenTimeoutSec');
    expect(diff).toContain('Europe/Berlin');
    expect(diff).toContain('["no_safe_boot","no_factory_reset"]');
    expect(diff).toContain('"startMinute":240');
    expect(diff).toContain('"endMinute":330');
  });

  it('shows the device pending, then compliant once it fetched, verified and reported the new policy', async () => {
    await device.heartbeat();
    expect(device.policy?.version).toBe(1);
    await page.goto(`${server.url}/devices/${device.deviceId}`);
    await page.getByTestId('device-compliance').filter({ hasText: 'pending' }).waitFor();

    const { hash, envelope } = await device.fetchPolicy();
    expect(hash).toBe(device.policy!.hash);
    expect(createHash('sha256').update(envelope!.params).digest('hex')).toBe(hash);
    const doc = JSON.parse(envelope!.params) as Record<string, unknown>;
    expect(await device.reportPolicy(hash!, doc, { userRestrictions: 'not the device owner' })).toBe('failed');
    await page.reload();
    await page.getByTestId('device-compliance').filter({ hasText: 'failed' }).waitFor();
    await expect(page.getByTestId('noncompliant-items').textContent()).resolves.toContain(
      'userRestrictions: failed (not the device owner)',
    );

    expect(await device.reportPolicy(hash!, doc)).toBe('compliant');
    await page.reload();
    await page.getByTestId('device-compliance').filter({ hasText: 'compliant' }).waitFor();

    await page.goto(`${server.url}/`);
    const row = page.locator('[data-testid="compliance-row"][data-group="Store 9"]');
    await row.waitFor();
    await expect(row.getByTestId('compliant').textContent()).resolves.toBe('1');
    await expect(row.getByTestId('failed').textContent()).resolves.toBe('0');
    // the compliance filter: the count lists its devices, each a link to its page
    await row.getByTestId('compliant').click();
    const listed = page.getByTestId('compliance-devices');
    await listed.waitFor();
    await expect(listed.getByRole('link', { name: 'KioskPro 10 POL-0001' }).getAttribute('href')).resolves.toBe(
      `/devices/${device.deviceId}`,
    );
    expect(errors).toEqual([]);
  });
});

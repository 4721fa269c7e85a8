import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

/**
 * Device lifecycle in the console, in headless Chromium against the real standalone server: bulk
 * move with its blast radius, the duplicate-serial flag, retire, replace and delete.
 */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('device lifecycle in the console', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let admin: string;
  let old: VirtualDevice;
  let nu: VirtualDevice;
  let other: VirtualDevice;
  const row = (name: string) => page.getByTestId('device-row').filter({ hasText: name });
  const text = async (testId: string) => (await page.getByTestId(testId).first().textContent())?.trim() ?? '';

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start(), launch()]);
    admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    const token = await enrollmentToken(server.url, admin, { maxUses: 3, group: 'Store 12' });
    old = await new VirtualDevice(server.url, 'DUP-0001', 'Tab A8').enroll(token);
    other = await new VirtualDevice(server.url, 'OTH-0002', 'Tab A8').enroll(token);
    await fetch(`${server.url}/api/v1/admin/devices/${old.deviceId}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ name: 'Till 4', tags: ['till'] }),
    });
    for (const d of [old, other]) await d.heartbeat();
    page = await signIn(await browser.newContext({ viewport: { width: 1366, height: 850 } }), server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    await row('Till 4').waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('moves selected devices to a group after showing how many change', async () => {
    await row('Till 4').getByRole('checkbox').check();
    await row('Tab A8 OTH-0002').getByRole('checkbox').check();
    await page.getByTestId('bulk-edit-open').click();
    await page.getByTestId('bulk-group').fill('bad/name');
    await page.getByTestId('bulk-review').click();
    expect(await text('field-error')).toContain('cannot be a group name');
    await page.getByTestId('bulk-group').fill('Hall');
    await page.getByTestId('bulk-review').click();
    const dialog = page.getByTestId('confirm-dialog');
    expect(await dialog.getByTestId('blast-radius').textContent()).toMatch(/2\s+of 2 selected devices will change/);
    await dialog.getByRole('button', { name: 'Apply' }).click();
    await until(async () => (await text('bulk-done')) === '2 of 2 devices changed.', 5000, 'the move');
    await until(async () => ((await row('Till 4').textContent()) ?? '').includes('Hall'), 5000, 'the group column to follow');
    expect((await row('Tab A8 OTH-0002').textContent()) ?? '').toContain('Hall');
  });

  it('flags a second enrollment of the same serial in the fleet and on the device page', async () => {
    nu = await new VirtualDevice(server.url, 'DUP-0001', 'Tab A8').enroll(await enrollmentToken(server.url, admin));
    await nu.heartbeat();
    await until(async () => (await page.getByTestId('duplicate-badge').count()) === 2, 5000, 'two duplicate badges');
    await page.getByTestId('filter-status').selectOption('duplicates');
    await until(async () => (await page.getByTestId('device-row').count()) === 2, 5000, 'the duplicates filter');
    await page.getByTestId('filter-status').selectOption('');
    await row('Tab A8 DUP-0001').getByTestId('device-link').click();
    await page.getByTestId('duplicate-serial').waitFor();
    expect(await text('duplicate-serial')).toContain('Till 4');
  });

  it('retires a device after a confirmation: it leaves the counts, its credentials stop working, it shows as retired', async () => {
    await page.goto(`${server.url}/devices/${old.deviceId}`);
    await page.getByTestId('retire').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.getByRole('button', { name: 'Retire' }).click();
    await page.getByTestId('lifecycle-note').waitFor();
    expect(await text('lifecycle-note')).toMatch(/^Retired/);
    await expect(old.heartbeat()).rejects.toThrow(/403/);
    await page.goto(`${server.url}/`);
    await row('Tab A8 DUP-0001').waitFor();
    expect(await row('Till 4').count()).toBe(0);
    expect(await page.getByTestId('count-total').getByTestId('count-value').textContent()).toBe('2');
    await page.getByTestId('filter-status').selectOption('retired');
    await until(async () => (await row('Till 4').count()) === 1, 5000, 'the retired filter');
    expect(await row('Till 4').locator('[data-status="retired"]').count()).toBe(1);
  });

  it('lets the new enrollment take over the retired one, then deletes the retired one', async () => {
    await row('Till 4').getByTestId('device-link').click();
    await page.getByTestId('replace-pick').selectOption(nu.deviceId);
    await page.getByTestId('replace').click();
    const dialog = page.getByTestId('confirm-dialog');
    expect(await dialog.getByTestId('replace-summary').textContent()).toMatch(
      /Tab A8 DUP-0001\s+takes over the name, group and tags of\s+Till 4/,
    );
    await dialog.getByRole('button', { name: 'Replace' }).click();
    await until(async () => (await text('lifecycle-note')).includes('Replaced by'), 5000, 'the replaced note');

    const replaced = await (
      await fetch(`${server.url}/api/v1/admin/devices/${nu.deviceId}`, { headers: { authorization: `Bearer ${admin}` } })
    ).json();
    expect(replaced).toMatchObject({ name: 'Till 4', group: { name: 'Hall' }, tags: ['till'], duplicateSerialOf: [] });

    await page.getByTestId('delete').click();
    const confirm = page.getByTestId('confirm-dialog');
    expect(await confirm.getByRole('button', { name: 'Delete' }).isDisabled()).toBe(true);
    await confirm.getByTestId('confirm-input').fill('DELETE');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${server.url}/`);
    await row('Till 4').waitFor(); // the new device now carries the name
    expect(await row('Till 4').getAttribute('data-device-id')).toBe(nu.deviceId);
    const gone = await fetch(`${server.url}/api/v1/admin/devices/${old.deviceId}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(gone.status).toBe(404);
    expect(errors).toEqual([]);
  });

  it('retires a device after a signed RELEASE_OWNER: retiring until the device took it', async () => {
    await page.goto(`${server.url}/devices/${other.deviceId}`);
    await page.getByTestId('retire').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.getByTestId('retire-release').check();
    await dialog.getByRole('button', { name: 'Retire' }).click();
    await until(async () => (await text('lifecycle-note')).startsWith('Retiring'), 5000, 'the retiring note');
    expect((await other.heartbeat()).map((e) => e.type)).toEqual(['RELEASE_OWNER']);
    expect(errors).toEqual([]);
  });
});

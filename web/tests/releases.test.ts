import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, ROOT, StandaloneServer } from './helpers/server.js';

/**
 * The Releases page in headless Chromium against the real server: real signed APKs from
 * docs/vectors/apk (signer A: agent-1, agent-2; signer B: agent-2-other-signer) go through the
 * file input, and what the operator reads is asserted.
 */
const SHOTS = process.env.SCREENSHOT_DIR ?? join(ROOT, 'web/test-results/screenshots');
const APK = (name: string) => join(ROOT, 'docs/vectors/apk', `${name}.apk`);
const SIGNER_A = 'af5a72d51ab84a470b6cdd5d09f2c89b602fe4af0c00496796de43578e6780a5';
const SIGNER_B = 'a32d534acdc9f8552e95b4e0d8cf6682d852ca5a1033e7f46c0fe82bb567e0c6';

describe('the Releases page in a real browser', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];

  const rows = () => page.getByTestId('release-row');
  const row = (versionCode: number) => page.locator(`[data-testid="release-row"][data-version-code="${versionCode}"]`);

  async function upload(name: string, opts: { notes?: string } = {}) {
    await page.getByTestId('apk-file').setInputFiles(APK(name));
    if (opts.notes) await page.getByTestId('apk-notes').fill(opts.notes);
    await page.getByTestId('apk-upload').click();
  }

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start(), launch()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('starts empty, and is in the navigation', async () => {
    page = await signIn(context, server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Releases' }).click();
    await page.waitForURL(/\/releases$/);
    await page.getByTestId('no-releases').waitFor();
    expect(await (await fetch(`${server.url}/api/v1/apk/latest`)).status).toBe(404);
  });

  it('uploads an APK and shows what the server read from it', async () => {
    await upload('agent-1', { notes: 'first field build' });
    const result = page.getByTestId('upload-result');
    await result.waitFor();
    const text = await result.textContent();
    expect(text).toContain('dev.fleetmdm.agent');
    expect(text).toContain('version 1.0.0 (versionCode 1)');
    await expect(page.getByTestId('upload-signer').textContent()).resolves.toBe(SIGNER_A);
    await row(1).waitFor();
    expect(await row(1).textContent()).toContain('first field build');
    await expect(page.getByTestId('pinned-signer').textContent()).resolves.toBe(SIGNER_A);
    // The ADB script's download now works without any hand-made API call.
    const latest = await fetch(`${server.url}/api/v1/apk/latest`);
    expect(latest.status).toBe(200);
    expect(latest.headers.get('x-apk-signer-sha256')).toBe(SIGNER_A);
  });

  it('counts downloads and the devices that run each version', async () => {
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    const device = await new VirtualDevice(server.url, 'REL-0001').enroll(await enrollmentToken(server.url, admin));
    await device.heartbeat(); // agentVersion 1.0.0: agent-1's versionName
    await page.reload();
    await row(1).waitFor();
    await expect(row(1).getByTestId('release-devices').textContent()).resolves.toBe('1');
    await expect(row(1).getByTestId('release-downloads').textContent()).resolves.toBe('1');
  });

  it('refuses an APK from another signer with a plain message, and stores nothing', async () => {
    await upload('agent-2-other-signer');
    const error = page.getByTestId('error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/signed with a different key than the package's earlier releases/);
    await expect(page.getByTestId('upload-result').count()).resolves.toBe(0);
    await expect(rows().count()).resolves.toBe(1);
  });

  it('refuses a file that is not an APK', async () => {
    await page
      .getByTestId('apk-file')
      .setInputFiles({ name: 'notes.apk', mimeType: 'application/vnd.android.package-archive', buffer: Buffer.from('hello') });
    await page.getByTestId('apk-upload').click();
    await page.getByTestId('error').filter({ hasText: 'is not an Android APK' }).waitFor();
  });

  it('registers by https URL next to the upload: a loopback address is refused in plain words, nothing stored', async () => {
    await page.getByTestId('apk-file').setInputFiles([]);
    const url = page.getByTestId('apk-url');
    expect(await url.isDisabled()).toBe(false);
    await url.fill('https://127.0.0.1:9/app-release.apk');
    const button = page.getByTestId('apk-upload');
    expect(await button.textContent()).toContain('Download and add');
    await button.click();
    await page.getByTestId('error').filter({ hasText: 'may not connect to that address' }).waitFor();
    await expect(page.getByTestId('upload-result').count()).resolves.toBe(0);
    await url.fill('');
  });

  it('marks a release bad only with a reason, after a confirmation', async () => {
    await upload('agent-2');
    await row(2).waitFor();
    await row(1).getByTestId('mark-bad').click();
    const dialog = page.getByRole('alertdialog', { name: 'Mark dev.fleetmdm.agent 1.0.0 bad?' });
    await dialog.waitFor();
    const confirm = dialog.getByRole('button', { name: 'Mark bad' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByTestId('bad-reason').fill('crashes on Android 9');
    await confirm.click();
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('[data-testid="release-row"][data-version-code="1"][data-bad="true"]').waitFor();
    expect(await row(1).textContent()).toContain('crashes on Android 9');
    expect(await row(2).getAttribute('data-bad')).toBe('false');
    expect((await fetch(`${server.url}/api/v1/apk/latest`)).headers.get('x-apk-version-code')).toBe('2');
  });

  it('rotates the signer pin with a reason, after which the new signer is accepted', async () => {
    await page.getByTestId('rotate-signer').click();
    const dialog = page.getByRole('alertdialog', { name: 'Rotate the signer of dev.fleetmdm.agent?' });
    await dialog.getByTestId('rotate-digest').fill(SIGNER_B.toUpperCase().match(/../g)!.join(':'));
    await dialog.getByTestId('rotate-reason').fill('release key moved to the new HSM');
    await dialog.getByRole('button', { name: 'Rotate signer' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('pinned-signer').filter({ hasText: SIGNER_B }).waitFor();
    await upload('agent-3-other-signer');
    await row(3).waitFor();
    await expect(page.getByTestId('upload-signer').textContent()).resolves.toBe(SIGNER_B);
  });

  it('shows app, agent and Android versions in the fleet view on a wide screen, and filters by them', async () => {
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    const other = new VirtualDevice(server.url, 'REL-0002');
    await other.enroll(await enrollmentToken(server.url, admin));
    const wide = await browser.newContext({ viewport: { width: 1600, height: 900 } });
    const p = await signIn(wide, server.url, ADMIN.email, ADMIN.password);
    const device = (serial: string) => p.getByTestId('device-row').filter({ hasText: serial });
    await device('REL-0001').waitFor();
    await expect(device('REL-0001').getByTestId('app-version').textContent()).resolves.toBe('2.3.0 (230)');
    await expect(device('REL-0001').getByTestId('agent-version').textContent()).resolves.toBe('1.0.0');
    await expect(device('REL-0001').getByTestId('android-version').textContent()).resolves.toBe('14');
    // REL-0002 has enrolled but not beaten: no app version yet
    await expect(device('REL-0002').getByTestId('app-version').textContent()).resolves.toBe('');
    expect(await p.getByTestId('device-row').count()).toBe(2);
    await p.getByTestId('filter-app-version').selectOption('2.3.0 (230)');
    await p.waitForFunction(() => document.querySelectorAll('[data-testid="device-row"]').length === 1);
    await expect(p.getByTestId('device-row').textContent()).resolves.toContain('REL-0001');
    await p.getByTestId('filter-app-version').selectOption('');
    await p.getByTestId('filter-android-version').selectOption('14');
    await p.getByTestId('filter-agent-version').selectOption('1.0.0');
    await p.waitForFunction(() => document.querySelectorAll('[data-testid="device-row"]').length === 2);
    await wide.close();
  });

  it('fits a 390 px wide phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const p = await signIn(phone, server.url, ADMIN.email, ADMIN.password);
    await p.goto(`${server.url}/releases`);
    await p.getByTestId('release-row').first().waitFor();
    await p.screenshot({ path: join(SHOTS, 'releases-phone.png'), fullPage: true });
    await page.screenshot({ path: join(SHOTS, 'releases.png'), fullPage: true });
    // Neither the page nor its scrolling main area is wider than the phone.
    const fits = await p.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      main: (document.querySelector('main')?.scrollWidth ?? 0) - (document.querySelector('main')?.clientWidth ?? 0),
    }));
    expect(fits).toEqual({ page: 390, main: 0 });
    expect(await p.getByTestId('mark-bad').first().isVisible()).toBe(true);
    await phone.close();
    expect(errors).toEqual([]);
  });
});

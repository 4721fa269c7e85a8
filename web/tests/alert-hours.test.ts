import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, signIn, watchErrors } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, StandaloneServer } from './helpers/server.js';

/**
 * Alert hours and bulk acknowledge in the console, in headless Chromium against the real standalone
 * server: a group's hours edited on the settings page (a client-side and a server-side refusal, then a
 * save the API reads back), and three app alerts of which two are acknowledged in one click.
 */
async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('alert hours and bulk acknowledge in the console', () => {
  let server: StandaloneServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let admin: string;
  let groupId: string;
  const api = async (path: string) =>
    (await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${admin}` } })).json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    [server, browser] = await Promise.all([StandaloneServer.start({ SWEEP_INTERVAL_SEC: '1', ALERT_HOLD_SEC: '0' }), launch()]);
    admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    const token = await enrollmentToken(server.url, admin, { maxUses: 3, group: 'Store 7' });
    for (const serial of ['HRS-0001', 'HRS-0002', 'HRS-0003']) {
      const d = await new VirtualDevice(server.url, serial).enroll(token);
      d.appRunning = false;
      await d.heartbeat();
    }
    groupId = (await api('/admin/groups')).items.find((g: { name: string }) => g.name === 'Store 7').id;
    page = await signIn(await browser.newContext({ viewport: { width: 1366, height: 900 } }), server.url, ADMIN.email, ADMIN.password);
    errors = watchErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('acknowledges the selected alerts in one click', async () => {
    await page.getByRole('link', { name: 'Alerts' }).click();
    await until(
      async () => {
        if ((await page.getByTestId('select-alert').count()) === 3) return true;
        await page.getByRole('button', { name: 'All' }).click();
        await page.getByRole('button', { name: 'Open' }).click();
        return false;
      },
      30_000,
      'three app_down alerts',
    );
    const boxes = page.getByTestId('select-alert');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    expect(await page.getByTestId('ack-selected').textContent()).toContain('(2)');
    await page.getByTestId('ack-selected').click();
    await page.getByText('Acknowledged 2 alerts.').waitFor();
    await until(async () => (await page.getByTestId('acknowledged').count()) === 2, 5000, 'two acknowledged badges');
    expect(await page.getByTestId('select-alert').count()).toBe(1);
    const open = (await api('/admin/alerts?status=open')).items as { acknowledgedAt: string | null }[];
    expect(open.filter((a) => a.acknowledgedAt !== null)).toHaveLength(2);
  });

  it("edits a group's alert hours on the settings page", async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const section = page.getByTestId('group-alert-hours');
    await section.getByTestId('hours-group').waitFor();
    await section.getByTestId('hours-group').selectOption(groupId);
    await section.getByTestId('hours-zone').fill('Europe/Berlin');
    await section.getByTestId('hours-mon').fill('21:00-09:00');
    await section.getByTestId('save-hours').click();
    await section.getByText('overnight range as two').waitFor();

    await section.getByTestId('hours-mon').fill('09:00-21:00');
    await section.getByTestId('hours-zone').fill('Mars/Olympus_Mons');
    await section.getByTestId('save-hours').click();
    await section.getByText('not a known IANA time zone').waitFor();

    await section.getByTestId('hours-zone').fill('Europe/Berlin');
    for (const d of ['tue', 'wed', 'thu', 'fri', 'sat']) await section.getByTestId(`hours-${d}`).fill('09:00-21:00');
    await section.getByTestId('save-hours').click();
    await section.getByText('Alert hours saved.').waitFor();
    const saved = await api(`/admin/groups/${groupId}/alert-hours`);
    expect(saved.hours).toEqual({
      timeZone: 'Europe/Berlin',
      weekly: { mon: [[540, 1260]], tue: [[540, 1260]], wed: [[540, 1260]], thu: [[540, 1260]], fri: [[540, 1260]], sat: [[540, 1260]] },
    });
    expect(await section.getByTestId('hours-state').textContent()).toContain('Hours in Europe/Berlin');

    // tomorrow, as a datetime-local field takes it (local time; the browser runs in this machine's zone)
    const local = (hour: number) => {
      const d = new Date(Date.now() + 86_400_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(hour)}:00`;
    };
    await section.getByTestId('window-start').fill(local(10));
    await section.getByTestId('window-end').fill(local(9));
    await section.getByTestId('add-window').click();
    await section.getByText('must end after it starts').waitFor();
    await section.getByTestId('window-end').fill(local(12));
    await section.getByTestId('add-window').click();
    await section.getByTestId('window').waitFor();
    expect((await api(`/admin/groups/${groupId}/alert-hours`)).windows).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("snoozes a device's alerts from its page and ends the snooze", async () => {
    const device = (await api('/admin/devices?limit=10')).items[0] as { id: string };
    await page.goto(`${server.url}/devices/${device.id}`);
    const snooze = page.getByTestId('snooze');
    await snooze.getByTestId('snooze-hours').fill('3');
    await snooze.getByTestId('snooze-reason').fill('screen replaced');
    await snooze.getByTestId('snooze-start').click();
    await snooze.getByTestId('snoozed').waitFor();
    expect(await snooze.getByTestId('snoozed').textContent()).toContain('screen replaced');
    const set = await api(`/admin/devices/${device.id}/snooze`);
    expect(set.reason).toBe('screen replaced');
    expect(Date.parse(set.until) - Date.now()).toBeGreaterThan(2.9 * 3600_000);
    await snooze.getByTestId('unsnooze').click();
    await snooze.getByTestId('snooze-start').waitFor();
    expect((await api(`/admin/devices/${device.id}/snooze`)).until).toBeNull();
    expect(errors).toEqual([]);
  });
});

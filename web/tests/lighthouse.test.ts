import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './helpers/browser.js';
import { adminToken, enrollmentToken, VirtualDevice } from './helpers/device.js';
import { ADMIN, ROOT, StandaloneServer } from './helpers/server.js';

/**
 * Lighthouse's accessibility audit (the registry's `lighthouse` package driving Debian's Chromium
 * through chrome-launcher) on the pages an operator lives in. Lighthouse's default mobile emulation
 * (412 px wide), so the phone layout is the one judged. The scores are printed; every page must score 100.
 */
const PAGES = ['login', 'fleet', 'device', 'enrollment', 'alerts', 'releases', 'policies'] as const;

describe('Lighthouse accessibility', () => {
  let server: StandaloneServer;
  let chrome: chromeLauncher.LaunchedChrome;
  let cookie: string;
  let deviceId: string;

  beforeAll(async () => {
    server = await StandaloneServer.start({ SWEEP_INTERVAL_SEC: '5', ALERT_HOLD_SEC: '0' });
    chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROMIUM_ARGS });
    const admin = await adminToken(server.url, ADMIN.email, ADMIN.password);
    // A fleet with something to show: a healthy kiosk and one whose app is down (an open alert).
    const ok = await new VirtualDevice(server.url, 'LH-0001', 'Tab A8').enroll(
      await enrollmentToken(server.url, admin, { group: 'Store 7' }),
    );
    await ok.heartbeat();
    const down = await new VirtualDevice(server.url, 'LH-0002', 'Tab A8').enroll(await enrollmentToken(server.url, admin));
    down.appRunning = false;
    await down.heartbeat();
    deviceId = ok.deviceId;
    // A catalog with something to show: the agent, one release of it.
    const uploaded = await fetch(`${server.url}/api/v1/admin/releases?notes=lighthouse`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.android.package-archive', authorization: `Bearer ${admin}` },
      body: await readFile(join(ROOT, 'docs/vectors/apk/agent-1.apk')),
    });
    if (uploaded.status !== 201) throw new Error(`upload: ${uploaded.status} ${await uploaded.text()}`);
    const res = await fetch(`${server.url}/api/v1/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    cookie = (res.headers.getSetCookie()[0] ?? '').split(';')[0]!;
  });
  afterAll(async () => {
    chrome?.kill();
    await server?.stop();
  });

  it('scores 100 on login, fleet, device, enrollment, alerts, releases and policies', async () => {
    const scores: Record<string, number> = {};
    const failing: Record<string, string[]> = {};
    for (const name of PAGES) {
      const path = {
        login: '/login',
        fleet: '/',
        device: `/devices/${deviceId}`,
        enrollment: '/enrollment',
        alerts: '/alerts',
        releases: '/releases',
        policies: '/policies',
      }[name];
      const result = await lighthouse(`${server.url}${path}`, {
        port: chrome.port,
        onlyCategories: ['accessibility'],
        logLevel: 'error',
        output: 'json',
        // The live event stream never goes quiet: do not wait for the network to.
        maxWaitForLoad: 15_000,
        // The audit does not need the page's picture (about a second of CPU per page)
        disableFullPageScreenshot: true,
        ...(name === 'login' ? {} : { extraHeaders: { cookie } }),
      });
      const lhr = result!.lhr;
      scores[name] = Math.round((lhr.categories.accessibility?.score ?? 0) * 100);
      failing[name] = Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'notApplicable' && a.scoreDisplayMode !== 'manual')
        .map(
          (a) =>
            `${a.id}: ${JSON.stringify((a.details as { items?: { node?: { snippet?: string } }[] })?.items?.slice(0, 3).map((i) => i.node?.snippet))}`,
        );
    }
    console.log('Lighthouse accessibility', scores, JSON.stringify(failing, null, 1));
    expect(scores).toEqual(Object.fromEntries(PAGES.map((p) => [p, 100])));
  }, 300_000);
});

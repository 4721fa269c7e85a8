import { describe, expect, it } from 'vitest';
import { createProfile } from '../../src/sim/identity.js';
import type { HeartbeatBody } from '../../src/sim/protocol.js';
import { Random } from '../../src/sim/random.js';
import { VirtualDevice, type ShowcaseRole } from '../../src/sim/virtual-device.js';
import { execute } from '../../src/sim/commands.js';

const INTERVAL_SEC = 300;
const START_MS = Date.parse('2026-03-10T12:00:00Z');

/** Runs `devices` devices for `beats` heartbeats each and returns what each one reported. */
function simulate(chaos: number, devices: number, beats: number, seed = 42): { offline: boolean; hb: HeartbeatBody }[][] {
  return Array.from({ length: devices }, (_, index) => {
    const rng = new Random(seed, index);
    const device = new VirtualDevice(createProfile(rng, index), rng, { chaos, appPackage: 'com.example.kiosk' });
    const reports: { offline: boolean; hb: HeartbeatBody }[] = [];
    for (let beat = 1; beat <= beats; beat++) {
      const now = START_MS + beat * INTERVAL_SEC * 1000;
      device.advance(INTERVAL_SEC, now);
      const offline = device.takeOfflineBeat();
      const hb = device.heartbeat(now);
      if (!offline) device.acknowledgeEvents(hb.events?.length ?? 0);
      reports.push({ offline, hb });
    }
    return reports;
  });
}

describe('VirtualDevice', () => {
  it('is reproducible: the same seed gives the same heartbeats', () => {
    expect(simulate(3, 3, 200, 7)).toEqual(simulate(3, 3, 200, 7));
    expect(simulate(3, 3, 200, 7)).not.toEqual(simulate(3, 3, 200, 8));
  });

  it('keeps a mains-powered device full and charging, whatever the time', () => {
    const rng = new Random(1, 0);
    const device = new VirtualDevice(createProfile(rng, 0), rng, { chaos: 0, appPackage: 'com.example.kiosk', mainsPowered: true });
    for (let beat = 1; beat <= 500; beat++) {
      device.advance(INTERVAL_SEC, START_MS + beat * INTERVAL_SEC * 1000);
      expect(device.heartbeat(START_MS + beat * INTERVAL_SEC * 1000).battery).toMatchObject({ level: 100, charging: true });
    }
  });

  it('keeps battery in 0..100, charges when low and stops charging when full', () => {
    for (const reports of simulate(1, 5, 2_000)) {
      const levels = reports.map((r) => r.hb.battery.level);
      expect(Math.min(...levels)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...levels)).toBeLessThanOrEqual(100);
      // Several full cycles in a week of beats: it went low (<= 30), charged, and came back up (>= 90).
      const chargingStarts = reports.filter((r, i) => r.hb.battery.charging && !reports[i - 1]?.hb.battery.charging);
      expect(chargingStarts.length).toBeGreaterThanOrEqual(2);
      for (const start of chargingStarts) expect(start.hb.battery.level).toBeLessThanOrEqual(31);
      expect(Math.max(...levels.slice(levels.findIndex((_, i) => reports[i]!.hb.battery.charging)))).toBeGreaterThanOrEqual(90);
      // While charging the level never falls; charging warms the battery.
      for (let i = 1; i < reports.length; i++) {
        if (reports[i]!.hb.battery.charging && reports[i - 1]!.hb.battery.charging) {
          expect(reports[i]!.hb.battery.level).toBeGreaterThanOrEqual(reports[i - 1]!.hb.battery.level);
        }
      }
      const temp = (charging: boolean) =>
        mean(reports.filter((r) => r.hb.battery.charging === charging).map((r) => r.hb.battery.temperatureC));
      expect(temp(true)).toBeGreaterThan(temp(false) + 2);
    }
  });

  it('keeps memory and storage within their totals, and memory moves', () => {
    for (const reports of simulate(1, 5, 2_000)) {
      for (const { hb } of reports) {
        expect(hb.memory.availBytes).toBeGreaterThan(0);
        expect(hb.memory.availBytes).toBeLessThanOrEqual(hb.memory.totalBytes);
        expect(hb.storage.freeBytes).toBeGreaterThanOrEqual(0);
        expect(hb.storage.freeBytes).toBeLessThanOrEqual(hb.storage.totalBytes);
        expect(Number.isInteger(hb.memory.availBytes) && Number.isInteger(hb.storage.freeBytes)).toBe(true);
      }
      expect(new Set(reports.map((r) => r.hb.memory.availBytes)).size).toBeGreaterThan(100);
    }
  });

  it('chaos 0 is a steady fleet: never offline, never crashed, never frozen, uptime only grows', () => {
    for (const reports of simulate(0, 20, 1_000)) {
      expect(reports.every((r) => !r.offline)).toBe(true);
      expect(reports.every((r) => r.hb.app.running && r.hb.app.foreground)).toBe(true);
      expect(reports.every((r) => (r.hb.app.lastFrameAgeMs ?? 0) < 1000)).toBe(true);
      expect(reports.every((r) => r.hb.events === undefined)).toBe(true);
      for (let i = 1; i < reports.length; i++) expect(reports[i]!.hb.uptimeSec).toBeGreaterThan(reports[i - 1]!.hb.uptimeSec);
    }
  });

  it('chaos > 0 crashes, freezes, drops offline and reboots devices, and they recover', () => {
    const fleet = simulate(5, 20, 1_000);
    let crashes = 0;
    let relaunches = 0;
    let freezes = 0;
    let outages = 0;
    let reboots = 0;
    for (const reports of fleet) {
      for (let i = 1; i < reports.length; i++) {
        const prev = reports[i - 1]!.hb;
        const cur = reports[i]!.hb;
        if (prev.app.running && !cur.app.running) crashes++;
        if (!prev.app.running && cur.app.running) relaunches++;
        if ((cur.app.lastFrameAgeMs ?? 0) >= 10_000 && (prev.app.lastFrameAgeMs ?? 0) < 1000) freezes++;
        if (reports[i]!.offline && !reports[i - 1]!.offline) outages++;
        if (cur.uptimeSec < prev.uptimeSec) reboots++;
      }
      // Crashes are reported: an app.crash event reaches the server with the next beat it sends.
      const crashEvents = reports.flatMap((r) => (r.offline ? [] : (r.hb.events ?? []))).filter((e) => e.type === 'app.crash');
      const crashed = reports.some((r, i) => i > 0 && reports[i - 1]!.hb.app.running && !r.hb.app.running);
      if (crashed) expect(crashEvents.length).toBeGreaterThan(0);
      // Every fault ends: the last beats of a long run are mostly healthy.
      expect(reports.slice(-50).filter((r) => r.hb.app.running).length).toBeGreaterThan(30);
    }
    expect(crashes).toBeGreaterThan(10);
    expect(relaunches).toBeGreaterThanOrEqual(crashes - 20);
    expect(freezes).toBeGreaterThan(10);
    expect(outages).toBeGreaterThan(10);
    expect(reboots).toBeGreaterThan(2);
  });

  it('a frozen app stays running and in front while its last frame ages into tens of seconds', () => {
    const rng = new Random(1, 0);
    const device = new VirtualDevice(createProfile(rng, 0), rng, { chaos: 0, appPackage: 'com.example.kiosk' });
    device.frozenBeats = 4;
    device.lastFrameAgeMs = 8_000;
    const ages: number[] = [];
    for (let i = 1; i <= 4; i++) {
      device.advance(5, START_MS + i * 5000);
      const hb = device.heartbeat(START_MS + i * 5000);
      expect(hb.app).toMatchObject({ running: true, foreground: true });
      ages.push(hb.app.lastFrameAgeMs ?? 0);
    }
    expect(ages.slice(0, 3)).toEqual([13_000, 18_000, 23_000]);
    expect(ages[3]).toBeLessThan(100); // recovered
  });

  it('crash model: crash-loops on its version until another one is installed', () => {
    const rng = new Random(5, 0);
    const device = new VirtualDevice(createProfile(rng, 0), rng, {
      chaos: 0,
      appPackage: 'com.example.kiosk',
      appVersionCode: 1,
      crashesOn: 2,
    });
    const control = { beatNow() {}, setIntervalSec() {}, retire() {} };
    const install = (versionCode: number) =>
      execute('INSTALL_APK', {
        device,
        control,
        nowMs: START_MS,
        params: {
          url: 'https://mdm.example.com/a.apk',
          sha256: 'a'.repeat(64),
          signerSha256: 'b'.repeat(64),
          packageName: 'com.example.kiosk',
          versionCode,
          allowDowngrade: true,
        },
      });
    const beat = (i: number) => {
      device.advance(INTERVAL_SEC, START_MS + i * 1000);
      const hb = device.heartbeat(START_MS + i * 1000);
      device.acknowledgeEvents(hb.events?.length ?? 0);
      return hb;
    };
    expect(beat(1).app).toMatchObject({ versionCode: 1, running: true });
    expect(install(2)).toMatchObject({ status: 'succeeded' });
    for (const i of [2, 3, 4]) {
      const hb = beat(i);
      expect(hb.app).toMatchObject({ versionCode: 2, running: false, foreground: false });
      expect(hb.events?.map((e) => e.type)).toEqual(['app.crash']);
    }
    device.relaunchApp(); // a RELAUNCH_APP does not help
    expect(beat(5).app.running).toBe(false);
    expect(install(1)).toMatchObject({ status: 'succeeded' });
    expect(beat(6)).toMatchObject({ app: { versionCode: 1, running: true, foreground: true } });
    expect(beat(7).events).toBeUndefined();
  });

  it('gives devices varied, plausible identities with unique serials', () => {
    const profiles = Array.from({ length: 500 }, (_, i) => createProfile(new Random(9, i), i));
    expect(new Set(profiles.map((p) => p.identity.serial)).size).toBe(500);
    expect(new Set(profiles.map((p) => p.identity.model)).size).toBeGreaterThanOrEqual(5);
    expect(new Set(profiles.map((p) => p.identity.manufacturer)).size).toBeGreaterThanOrEqual(5);
    for (const { identity } of profiles) {
      expect(identity.sdkInt).toBeGreaterThanOrEqual(26);
      expect(identity.sdkInt).toBeLessThanOrEqual(35);
    }
    expect(new Set(profiles.map((p) => p.hardware.ip)).size).toBe(500);
  });
});

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

describe('showcase roles (npm run demo)', () => {
  const play = (role: ShowcaseRole, beats: number, onBeat?: (d: VirtualDevice, beat: number) => void) => {
    const rng = new Random(1, 0);
    const device = new VirtualDevice(createProfile(rng, 0), rng, { chaos: 5, appPackage: 'com.example.kiosk', role });
    const out: { offline: boolean; hb: HeartbeatBody }[] = [];
    for (let beat = 0; beat < beats; beat++) {
      const now = START_MS + beat * 10_000;
      device.advance(10, now);
      onBeat?.(device, beat);
      const offline = device.takeOfflineBeat();
      const hb = device.heartbeat(now);
      if (!offline) device.acknowledgeEvents(hb.events?.length ?? 0);
      out.push({ offline, hb });
    }
    return out;
  };

  it('offline: beats once, then never again', () => {
    expect(play('offline', 30).map((r) => r.offline)).toEqual([false, ...Array<boolean>(29).fill(true)]);
  });

  it('low battery: 11 % and not charging on every beat', () => {
    for (const r of play('low-battery', 50)) expect(r.hb.battery).toMatchObject({ level: 11, charging: false });
  });

  it('app down: not running on every beat, and a relaunch does not help', () => {
    for (const r of play('app-down', 20, (d, beat) => beat === 5 && d.relaunchApp())) expect(r.hb.app.running).toBe(false);
  });

  it('frozen: running, its last frame older than the 30 s threshold and growing, whatever is relaunched', () => {
    const beats = play('frozen', 10, (d, beat) => beat === 3 && d.relaunchApp());
    const ages = beats.map((r) => r.hb.app.lastFrameAgeMs ?? 0);
    expect(beats.every((r) => r.hb.app.running)).toBe(true);
    expect(Math.min(...ages)).toBeGreaterThan(30_000);
    expect(ages).toEqual([...ages].sort((a, b) => a - b));
  });

  it('heals: down (with a crash event) until one RELAUNCH_APP, then up for good', () => {
    const beats = play('heals', 12, (d, beat) => beat === 6 && d.relaunchApp());
    expect(beats.slice(0, 6).map((r) => r.hb.app.running)).toEqual(Array<boolean>(6).fill(false));
    expect(beats.slice(6).every((r) => r.hb.app.running && r.hb.app.foreground)).toBe(true);
    expect(beats[0]!.hb.events?.map((e) => e.type)).toEqual(['app.crash']);
  });
});

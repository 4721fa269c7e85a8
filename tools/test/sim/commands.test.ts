import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/sim/command-handler.js';
import type { DeviceControl } from '../../src/sim/commands.js';
import { EnvelopeVerifier } from '../../src/sim/envelope.js';
import { createProfile } from '../../src/sim/identity.js';
import type { CommandResult } from '../../src/sim/protocol.js';
import { Random } from '../../src/sim/random.js';
import { CommandStats } from '../../src/sim/stats.js';
import { VirtualDevice } from '../../src/sim/virtual-device.js';
import { envelope, newHmacKey } from './helpers/envelopes.js';

const DID = randomUUID();
const KEY = newHmacKey();
const NOW_MS = Date.parse('2026-03-10T12:00:00Z');
const SHA = 'ab'.repeat(32);

let device: VirtualDevice;
let stats: CommandStats;
let reports: { cid: string; result: CommandResult }[];
let control: { beats: number; intervalSec: number | undefined; retired: false | 'wiped' | 'released' } & DeviceControl;
let handler: CommandHandler;

beforeEach(() => {
  const rng = new Random(3, 0);
  device = new VirtualDevice(createProfile(rng, 0), rng, { chaos: 0, appPackage: 'com.example.kiosk' });
  stats = new CommandStats();
  reports = [];
  control = {
    beats: 0,
    intervalSec: undefined,
    retired: false,
    beatNow() {
      this.beats++;
    },
    setIntervalSec(sec) {
      this.intervalSec = sec;
    },
    retire(why) {
      this.retired = why;
    },
  };
  handler = new CommandHandler(
    new EnvelopeVerifier(DID, KEY),
    device,
    control,
    (cid, result) => reports.push({ cid, result }),
    stats,
    () => NOW_MS,
  );
});

const send = (type: string, params: unknown = {}) => {
  const e = envelope({ did: DID, key: KEY, type, params, nowSec: NOW_MS / 1000 });
  handler.receive(e, 'heartbeat');
  return e;
};

describe('commands on the virtual device', () => {
  it('REBOOT resets uptime, goes silent for a beat and reports success', () => {
    device.uptimeSec = 86_400;
    const e = send('REBOOT');
    expect(device.uptimeSec).toBe(0);
    expect(device.takeOfflineBeat()).toBe(true);
    expect(device.takeOfflineBeat()).toBe(false);
    expect(device.events.map((ev) => ev.type)).toContain('device.boot');
    expect(reports).toEqual([{ cid: e.cid, result: { status: 'succeeded' } }]);
    expect(stats).toMatchObject({ received: 1, executed: 1, succeeded: 1, rejected: 0 });
  });

  it('RELAUNCH_APP brings a crashed app back to the foreground', () => {
    device.app.running = device.app.foreground = false;
    device.crashedBeats = 3;
    send('RELAUNCH_APP');
    expect(device.app).toMatchObject({ running: true, foreground: true });
    expect(device.crashedBeats).toBe(0);
  });

  it('PING asks for a heartbeat now', () => {
    send('PING');
    expect(control.beats).toBe(1);
    expect(reports[0]?.result).toEqual({ status: 'succeeded', output: 'pong' });
  });

  it('LOCK takes the app out of the foreground for a while', () => {
    send('LOCK');
    expect(device.app.foreground).toBe(false);
    device.advance(5, NOW_MS + 5000);
    device.advance(5, NOW_MS + 10_000);
    expect(device.app.foreground).toBe(true);
  });

  it('INSTALL_APK changes the app version, and refuses a downgrade or bad params', () => {
    const apk = { url: 'https://example.com/kiosk.apk', sha256: SHA, signerSha256: SHA, packageName: device.app.package };
    send('INSTALL_APK', { ...apk, versionCode: 241 });
    expect(device.app).toMatchObject({ versionCode: 241, versionName: '2.4.1', running: true });
    send('INSTALL_APK', { ...apk, versionCode: 200 });
    send('INSTALL_APK', { ...apk, url: 'ftp://example.com/kiosk.apk', versionCode: 300 });
    send('INSTALL_APK', { ...apk, sha256: 'abc', versionCode: 300 });
    expect(device.app.versionCode).toBe(241);
    expect(reports.map((r) => r.result.status)).toEqual(['succeeded', 'failed', 'failed', 'failed']);
    expect(reports[1]?.result.error).toMatch(/downgrade/);
  });

  it('INSTALL_APK needs the signer digest and the package, as the agent does, and downgrades only when allowed', () => {
    const apk = { url: 'https://example.com/kiosk.apk', sha256: SHA, packageName: device.app.package, versionCode: 300 };
    send('INSTALL_APK', apk);
    send('INSTALL_APK', { ...apk, signerSha256: SHA, packageName: 'com.attacker.app' });
    expect(reports.map((r) => r.result.status)).toEqual(['failed', 'failed']);
    expect(reports[0]?.result.error).toMatch(/signerSha256/);
    expect(reports[1]?.result.error).toMatch(/package/);
    send('INSTALL_APK', { ...apk, signerSha256: SHA, versionCode: 1, allowDowngrade: true });
    expect(reports.at(-1)?.result.status).toBe('succeeded');
    expect(device.app.versionCode).toBe(1);
  });

  it("INSTALL_APK of the agent package updates the agent's versionCode, which the heartbeat reports; the app is left alone", () => {
    expect(device.heartbeat(NOW_MS).agentVersionCode).toBe(1);
    const apk = { url: 'https://example.com/agent.apk', sha256: SHA, signerSha256: SHA, packageName: 'dev.fleetmdm.agent' };
    send('INSTALL_APK', { ...apk, versionCode: 3 });
    send('INSTALL_APK', { ...apk, versionCode: 2 });
    expect(reports.map((r) => r.result.status)).toEqual(['succeeded', 'failed']);
    expect(reports[1]?.result.error).toMatch(/downgrade: 3 -> 2/);
    const hb = device.heartbeat(NOW_MS);
    expect(hb.agentVersionCode).toBe(3);
    expect(hb.app).toMatchObject({ package: 'com.example.kiosk', versionCode: 230 });
    send('INSTALL_APK', { ...apk, versionCode: 1, allowDowngrade: true });
    expect(device.heartbeat(NOW_MS).agentVersionCode).toBe(1);
  });

  it('SET_CONFIG changes the heartbeat interval and the kiosk package', () => {
    send('SET_CONFIG', { heartbeatIntervalSec: 60, kioskPackage: 'com.example.signage' });
    expect(control.intervalSec).toBe(60);
    expect(device.heartbeat(NOW_MS).app.package).toBe('com.example.signage');
    send('SET_CONFIG', { heartbeatIntervalSec: 0 });
    send('SET_CONFIG', { kioskPackage: 'not a package' });
    expect(control.intervalSec).toBe(60);
    expect(reports.map((r) => r.result.status)).toEqual(['succeeded', 'failed', 'failed']);
  });

  it('CLEAR_APP_DATA restarts the app and frees some storage', () => {
    const free = device.storageFreeBytes;
    device.app.running = false;
    send('CLEAR_APP_DATA');
    expect(device.app.running).toBe(true);
    expect(device.storageFreeBytes).toBeGreaterThan(free);
  });

  it('WIPE stops the device for good', () => {
    send('WIPE');
    expect(device.wiped).toBe(true);
    expect(control.retired).toBe('wiped');
    expect(reports[0]?.result.status).toBe('succeeded');
  });

  it('RELEASE_OWNER reports success, keeps the data and stops the device for good', () => {
    send('RELEASE_OWNER');
    expect(device.ownerReleased).toBe(true);
    expect(device.wiped).toBe(false);
    expect(control.retired).toBe('released');
    expect(reports[0]?.result).toEqual({ status: 'succeeded', output: 'Device Owner released; the agent stops reporting' });
  });

  it('reports an unknown command type as rejected', () => {
    const e = send('SELF_DESTRUCT');
    expect(reports).toEqual([{ cid: e.cid, result: { status: 'rejected', error: 'unknown command type SELF_DESTRUCT' } }]);
    expect(stats.rejectedBy.get('unknown_type')).toBe(1);
  });
});

describe('CommandHandler', () => {
  it('executes a command once however often it is delivered, and by whichever channel', () => {
    const e = envelope({ did: DID, key: KEY, type: 'PING', nowSec: NOW_MS / 1000 });
    handler.receive(e, 'heartbeat');
    handler.receive(e, 'push');
    handler.receive(e, 'heartbeat');
    expect(control.beats).toBe(1);
    expect(stats).toMatchObject({ received: 3, executed: 1, rejected: 2 });
    expect(stats.rejectedBy.get('replayed')).toBe(2);
    // The replays add no second, contradicting result.
    expect(reports).toHaveLength(1);
  });

  it('reports rejected envelopes addressed to it with the reason, and ignores others', () => {
    const tampered = { ...envelope({ did: DID, key: KEY, type: 'WIPE', nowSec: NOW_MS / 1000 }), type: 'REBOOT' };
    handler.receive(tampered, 'heartbeat');
    const expired = envelope({ did: DID, key: KEY, nowSec: NOW_MS / 1000 - 7200, ttlSec: 600 });
    handler.receive(expired, 'heartbeat');
    handler.receive(envelope({ did: randomUUID(), key: KEY, nowSec: NOW_MS / 1000 }), 'heartbeat');
    handler.receive({ nonsense: true }, 'push');
    expect(reports).toEqual([
      { cid: tampered.cid, result: { status: 'rejected', error: 'bad_signature' } },
      { cid: expired.cid, result: { status: 'rejected', error: 'expired' } },
    ]);
    expect(device.wiped).toBe(false);
    expect(device.uptimeSec).toBeGreaterThan(0);
    expect(Object.fromEntries(stats.rejectedBy)).toEqual({ bad_signature: 1, expired: 1, wrong_device: 1, malformed: 1 });
    expect(stats.executed).toBe(0);
  });
});

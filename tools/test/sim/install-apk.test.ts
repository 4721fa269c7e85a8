import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyApk } from '../../src/sim/apk-verify.js';
import { CommandHandler } from '../../src/sim/command-handler.js';
import type { DeviceControl } from '../../src/sim/commands.js';
import { EnvelopeVerifier } from '../../src/sim/envelope.js';
import { createProfile } from '../../src/sim/identity.js';
import type { CommandResult } from '../../src/sim/protocol.js';
import { Random } from '../../src/sim/random.js';
import { CommandStats } from '../../src/sim/stats.js';
import { VirtualDevice } from '../../src/sim/virtual-device.js';
import { envelope, newHmacKey } from './helpers/envelopes.js';

/** The shared INSTALL_APK vectors (docs/vectors/install-apk.json): downloaded file vs. the envelope's params. */
const VECTORS = new URL('../../../docs/vectors/', import.meta.url);
const vectors = JSON.parse(readFileSync(new URL('install-apk.json', VECTORS), 'utf8')) as {
  cases: { name: string; apk: string; params: { sha256: string; signerSha256: string }; expect: string }[];
};
const file = (name: string) => readFileSync(new URL(`apk/${name}`, VECTORS));

describe('the simulator on the shared INSTALL_APK vectors', () => {
  it.each(vectors.cases)('$name: $expect', ({ apk, params, expect: outcome }) => {
    const verdict = verifyApk(file(apk), params);
    expect(verdict.ok ? 'ok' : verdict.reason).toBe(outcome);
  });
});

describe('INSTALL_APK with a download', () => {
  const DID = randomUUID();
  const KEY = newHmacKey();
  const NOW_MS = Date.parse('2026-03-10T12:00:00Z');
  const control: DeviceControl = { beatNow() {}, setIntervalSec() {}, retire() {} };

  const run = async (served: Buffer, params: Record<string, unknown>) => {
    const rng = new Random(3, 0);
    const device = new VirtualDevice(createProfile(rng, 0), rng, { chaos: 0, appPackage: 'com.example.kiosk' });
    const reports: CommandResult[] = [];
    const urls: string[] = [];
    const handler = new CommandHandler(
      new EnvelopeVerifier(DID, KEY),
      device,
      control,
      (_cid, result) => reports.push(result),
      new CommandStats(),
      () => NOW_MS,
      async (url) => {
        urls.push(url);
        return served;
      },
    );
    handler.receive(envelope({ did: DID, key: KEY, type: 'INSTALL_APK', params, nowSec: NOW_MS / 1000 }), 'heartbeat');
    await new Promise((r) => setTimeout(r, 10));
    return { device, reports, urls };
  };
  const kiosk = vectors.cases[0]!;
  const params = {
    releaseId: randomUUID(),
    url: 'https://mdm.example.com/api/v1/releases/x/apk',
    packageName: 'com.example.kiosk',
    versionCode: 300,
    ...kiosk.params,
  };

  it('installs when the download matches the envelope', async () => {
    const { device, reports, urls } = await run(file(kiosk.apk), params);
    expect(urls).toEqual([params.url]);
    expect(reports).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(device.app.versionCode).toBe(300);
  });

  it('reports a failed install on a hash or signer mismatch, and installs nothing', async () => {
    const tampered = Buffer.from(file(kiosk.apk));
    tampered[10] = tampered[10]! ^ 1;
    const hash = await run(tampered, params);
    expect(hash.reports).toEqual([{ status: 'failed', error: 'sha256_mismatch' }]);
    expect(hash.device.app.versionCode).not.toBe(300);
    const signer = await run(file(kiosk.apk), { ...params, signerSha256: 'ab'.repeat(32) });
    expect(signer.reports).toEqual([{ status: 'failed', error: 'signer_mismatch' }]);
  });
});

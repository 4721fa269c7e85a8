import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/sim/command-handler.js';
import { EnvelopeVerifier } from '../../src/sim/envelope.js';
import { createProfile } from '../../src/sim/identity.js';
import type { CommandResult } from '../../src/sim/protocol.js';
import { parseHeartbeatAnswer } from '../../src/sim/protocol.js';
import { Random } from '../../src/sim/random.js';
import { CommandStats } from '../../src/sim/stats.js';
import { VirtualDevice } from '../../src/sim/virtual-device.js';

/** The shared cancel vectors (docs/vectors/cancel.json), which the Kotlin agent's tests check too. */
const vectors = JSON.parse(readFileSync(new URL('../../../docs/vectors/cancel.json', import.meta.url), 'utf8')) as {
  device: { deviceId: string; hmacKey: string };
  now: number;
  scenarios: {
    name: string;
    steps: ({ cancelled: string[] } | { envelope: unknown })[];
    executed: string[];
    reportedCancelled: string[];
  }[];
};

function deviceFor() {
  const rng = new Random(5, 0);
  const device = new VirtualDevice(createProfile(rng, 0), rng, { chaos: 0, appPackage: 'com.example.kiosk' });
  const reports: { cid: string; result: CommandResult }[] = [];
  const stats = new CommandStats();
  const control = { beatNow() {}, setIntervalSec() {}, retire() {} };
  const handler = new CommandHandler(
    new EnvelopeVerifier(vectors.device.deviceId, vectors.device.hmacKey),
    device,
    control,
    (cid, result) => reports.push({ cid, result }),
    stats,
    () => vectors.now * 1000,
  );
  return { handler, reports, stats };
}

describe('the simulator on the shared cancel vectors', () => {
  it.each(vectors.scenarios)('$name', ({ steps, executed, reportedCancelled }) => {
    const { handler, reports } = deviceFor();
    for (const step of steps) {
      if ('cancelled' in step) handler.cancel(step.cancelled);
      else handler.receive(step.envelope, 'push');
    }
    const ran = reports.filter((r) => r.result.status === 'succeeded' || r.result.status === 'failed').map((r) => r.cid);
    expect(ran).toEqual(executed);
    expect(reports.filter((r) => r.result.status === 'cancelled').map((r) => r.cid)).toEqual(reportedCancelled);
  });

  it('reads `cancelled` from a heartbeat answer, and nothing from an answer without it', () => {
    expect(parseHeartbeatAnswer({ commands: [], cancelled: ['a', 7, ''] }).cancelled).toEqual(['a']);
    expect(parseHeartbeatAnswer({ commands: [] }).cancelled).toEqual([]);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TOOLS = join(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mdm-bench-'));
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Two benchmarks in miniature (`npm run bench:heartbeat`, `npm run bench:storm`), so the ones
 * docs/benchmarks.md quotes keep working: every part runs and reports what the docs read.
 */
describe('the heartbeat benchmark, small', () => {
  it('drives heartbeats over HTTP without errors and reports latency, capacity, ceiling, the log and the generator', async () => {
    const out = join(dir, 'result.json');
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // vitest's loader hooks must not leak into the children
    await run(
      process.execPath,
      [
        join(TOOLS, 'lib/bench/heartbeat.js'),
        '--devices',
        '300',
        '--rate',
        '150',
        '--duration',
        '3',
        '--warmup',
        '1',
        '--capacity-duration',
        '2',
        '--capacity-connections',
        '8',
        '--ceiling-duration',
        '2',
        '--ceiling-clients',
        '2',
        '--boot-ids',
        '--json',
        out,
      ],
      { env, timeout: 110_000 },
    );
    const result = JSON.parse(await readFile(out, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(result.devices).toBe(300);
    expect(result.http).toMatchObject({ targetRate: 150, errors: {}, sent: 450, ok: 450, sustainedPerSec: 150 });
    expect(result.http.latencyMs.p99).toBeGreaterThan(0);
    expect(result.http.generatorLoopDelayMs.max).toBeGreaterThan(0);
    expect(result.capacity.perSec).toBeGreaterThan(0);
    expect(result.capacity.errors).toEqual({});
    expect(result.dbCeiling).toMatchObject({ errors: 0 });
    expect(result.dbCeiling.perSec).toBeGreaterThan(0);
    expect(result.ratio).toBeGreaterThan(0);
    expect(result.wal.bytesPerHeartbeat).toBeGreaterThan(100); // a heartbeat row and a device update at least
    expect(result.wal.checkpoints).toBeGreaterThanOrEqual(0);
    expect(result.serverRssMb.peakMb).toBeGreaterThan(0);
    // cost per heartbeat: the server process, and the backends of the bench's own database (which
    // did work: a shared cluster's other databases are not in it), in the timed run and at capacity
    const cost = result.cpuMicrosecondsPerHeartbeat;
    expect(cost.stored).toBeGreaterThan(0);
    expect(cost.server).toBeGreaterThan(0);
    expect(cost.postgresBackends).toBeGreaterThan(0);
    expect(cost.atCapacity.stored).toBeGreaterThan(0);
    expect(cost.atCapacity.server).toBeGreaterThan(0);
    expect(cost.atCapacity.postgresBackends).toBeGreaterThan(0);
  }, 120_000);
});

describe('the command-storm benchmark, small', () => {
  it('sends fleet-wide commands while the fleet beats, and every device runs each one', async () => {
    const out = join(dir, 'storm.json');
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    await run(
      process.execPath,
      [
        join(TOOLS, 'lib/bench/storm.js'),
        '--devices',
        '40',
        '--interval-sec',
        '1',
        '--commands',
        '3',
        '--every-sec',
        '1',
        '--start-after-sec',
        '4',
        '--duration',
        '12',
        '--chaos',
        '0',
        '--json',
        out,
      ],
      { env, timeout: 110_000 },
    );
    const result = JSON.parse(await readFile(out, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(result.storm).toMatchObject({ commands: 3, created: 3, deviceCommands: 120 });
    expect(result.errors.total).toBe(0);
    expect(result.heartbeats.ok).toBeGreaterThan(0);
    expect(result.onDevices.executed).toBeGreaterThanOrEqual(120);
    expect(result.onDevices.resultsReported).toBe(result.onDevices.executed);
    expect(result.latencyMs.result.count).toBe(result.onDevices.resultsReported);
    expect(result.server.cpuSec).toBeGreaterThan(0);
  }, 120_000);
});

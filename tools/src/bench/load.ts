import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mintDeviceToken } from './jwt.js';
import { percentiles } from './stats.js';

/**
 * The heartbeat load generator, run as its own process so it does not share an event loop with the
 * server. Open loop: heartbeat i is due at start + i / rate whatever the server does, and its latency
 * is measured from that due time, so a server that falls behind shows it in the percentiles instead of
 * silently slowing the generator down (no coordinated omission).
 */
export interface LoadOptions {
  /** open: heartbeats due at a fixed rate; closed: `connections` senders back to back (capacity). */
  mode: 'open' | 'closed';
  url: string;
  jwtSecret: string;
  deviceIdsFile: string;
  rate: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  /** Send bootId and seq with every heartbeat, as agents do since protocol dedupe (one boot per device). */
  bootIds?: boolean;
}

export interface LoadResult {
  targetRate: number | null;
  sent: number;
  ok: number;
  errors: Record<string, number>;
  measuredSec: number;
  sustainedPerSec: number;
  latencyMs: Record<string, number>;
  generatorCpuSec: number;
  /**
   * How late the generator's own event loop ran (p99 and max, ms): a stall here delays sends and
   * shows up as latency, so a figure near the latency tail means the tail is the generator's.
   */
  generatorLoopDelayMs: { p99: number; max: number };
}

async function run(o: LoadOptions): Promise<LoadResult> {
  const ids = JSON.parse(await readFile(o.deviceIdsFile, 'utf8')) as string[];
  const nowSec = Math.floor(Date.now() / 1000);
  // Minted per request (an HMAC, microseconds): a million tokens held at once made the generator's
  // heap large enough for its own garbage collection pauses to show up in the latency tail.
  const auth = (i: number) => `Bearer ${mintDeviceToken(o.jwtSecret, ids[i % ids.length]!, nowSec, 6 * 3600)}`;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const target = new URL('/api/v1/heartbeat', o.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  const total = Math.floor((o.mode === 'closed' ? 20_000 : o.rate) * (o.durationSec + o.warmupSec));
  const latencies = new Float64Array(total);
  const measured = new Uint8Array(total);
  const errors: Record<string, number> = {};
  const trace: number[] = [];
  let sent = 0;
  let done = 0;
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now() + 200;
  loopDelay.enable();
  const warmupEnd = start + o.warmupSec * 1000;

  const boot = randomBytes(8).toString('hex');
  const seqs = new Uint32Array(ids.length);
  // A device's battery, memory and signal stay the same from one heartbeat to the next (keyed by the
  // device, not the request: keyed by the request they changed on every beat whenever the fleet size
  // was not a multiple of 80, which no real fleet does and which defeats HOT updates of `devices`).
  const body = (i: number, d = i % ids.length) =>
    JSON.stringify({
      ...(o.bootIds ? { bootId: boot, seq: seqs[i % ids.length]!++ } : {}),
      sentAt: new Date().toISOString(),
      battery: { level: 20 + (d % 80), charging: d % 7 === 0, temperatureC: 30 + (d % 10) },
      memory: { availBytes: 1_000_000_000 + (d % 1000) * 1_000_000, totalBytes: 4_000_000_000 },
      storage: { freeBytes: 20_000_000_000, totalBytes: 64_000_000_000 },
      network: { type: 'wifi', rssi: -40 - (d % 40) },
      app: { package: 'com.example.kiosk', running: true, foreground: true, versionCode: 230, lastFrameAgeMs: 16 },
      uptimeSec: 3600 + i,
      agentVersion: '1.0.0',
    });

  const send = (i: number, due: number, then?: () => void) => {
    const payload = body(i);
    const req = http.request(target, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: auth(i) },
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    const finish = (key: string | null) => {
      latencies[i] = performance.now() - due;
      if (process.env.BENCH_TRACE) {
        const sec = Math.floor((due - start) / 1000);
        trace[sec] = Math.max(trace[sec] ?? 0, latencies[i]!);
      }
      measured[i] = due >= warmupEnd ? 1 : 0;
      if (key === null) ok += measured[i]!;
      else if (measured[i]) errors[key] = (errors[key] ?? 0) + 1;
      done++;
      then?.();
    };
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish(res.statusCode === 200 ? null : `http_${res.statusCode}`));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    req.end(payload);
  };

  if (o.mode === 'closed') {
    // Each sender starts its next heartbeat when the previous one is answered; latency from its start.
    const end = start + (o.warmupSec + o.durationSec) * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, start - performance.now())));
    await Promise.all(
      Array.from({ length: o.connections }, async () => {
        while (performance.now() < end && sent < total) {
          const i = sent++;
          await new Promise<void>((resolve) => send(i, performance.now(), resolve));
        }
      }),
    );
  } else
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) / 1000) * o.rate));
        while (sent < due) {
          send(sent, start + (sent * 1000) / o.rate);
          sent++;
        }
        if (sent < total) setTimeout(tick, 1);
        else resolve();
      };
      setTimeout(tick, Math.max(0, start - performance.now()));
    });
  const waitUntil = performance.now() + 15_000;
  while (done < sent && performance.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
  loopDelay.disable();

  if (process.env.BENCH_TRACE) process.stderr.write(`max latency per second: ${trace.map((t) => Math.round(t)).join(' ')}\n`);
  const kept: number[] = [];
  for (let i = 0; i < sent; i++) if (measured[i]) kept.push(latencies[i]!);
  const cpu = process.cpuUsage(cpu0);
  return {
    targetRate: o.mode === 'closed' ? null : o.rate,
    sent: kept.length,
    ok,
    errors: { ...errors, ...(done < sent ? { unanswered: sent - done } : {}) },
    measuredSec: o.durationSec,
    sustainedPerSec: Math.round(ok / o.durationSec),
    latencyMs: percentiles(kept, [50, 95, 99, 99.9, 100]),
    generatorCpuSec: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
    generatorLoopDelayMs: { p99: Math.round(loopDelay.percentile(99) / 1e4) / 100, max: Math.round(loopDelay.max / 1e4) / 100 },
  };
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
process.stdout.write(JSON.stringify(await run(options)) + '\n');

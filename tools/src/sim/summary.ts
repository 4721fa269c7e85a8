import type { LatencySummary } from './histogram.js';
import { REQUEST_KINDS, type Stats } from './stats.js';

/** The run's outcome, as printed and as written by --json-summary (the benchmarks read it). */
export interface FleetSummary {
  url: string;
  seed: number;
  chaos: number;
  intervalSec: number;
  durationSec: number;
  devices: { wanted: number; enrolled: number; fromState: number; active: number; removed: number; wiped: number; released: number };
  heartbeats: {
    sent: number;
    ok: number;
    /** Over the whole heartbeat phase, ramp-up included. */
    perSec: number;
    /** Once every device was beating (null when the run ended before that). */
    steadyPerSec: number | null;
    skippedOffline: number;
    overrun: number;
  };
  sessionsOpened: number;
  sessionsAfter401: number;
  errors: { total: number; byKind: Record<string, number> };
  latencyMs: Record<string, LatencySummary>;
  schedulerLagMs: LatencySummary;
  commands: {
    received: number;
    executed: number;
    succeeded: number;
    failed: number;
    rejected: number;
    rejectedBy: Record<string, number>;
    resultsReported: number;
    resultsNotFound: number;
    resultRetries: number;
    byChannel: Record<string, number>;
  };
  policies: { applied: number; rejected: number; itemsFailed: number; itemsUnsupported: number };
  /** CPU time of the simulator process, and that as a share of one core over the run and at full rate. */
  cpu: { userSec: number; systemSec: number; percentOfOneCore: number; steadyPercentOfOneCore: number | null };
}

export interface SummaryMeta {
  url: string;
  seed: number;
  chaos: number;
  intervalSec: number;
  /** When the first heartbeat could go out: the rate is over the heartbeat phase, not enrollment. */
  heartbeatsFromMs: number;
  cpu: NodeJS.CpuUsage;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function buildSummary(stats: Stats, meta: SummaryMeta): FleetSummary {
  const now = Date.now();
  const durationSec = (now - stats.startedAt) / 1000;
  const beatingSec = Math.max(0.001, (now - meta.heartbeatsFromMs) / 1000);
  const c = stats.commands;
  const steady = steadyWindow(stats, now);
  const latencyMs: Record<string, LatencySummary> = {};
  for (const kind of REQUEST_KINDS) {
    const h = stats.latency.get(kind);
    if (h && h.count > 0) latencyMs[kind] = h.summary();
  }
  return {
    url: meta.url,
    seed: meta.seed,
    chaos: meta.chaos,
    intervalSec: meta.intervalSec,
    durationSec: round1(durationSec),
    devices: {
      wanted: stats.devicesWanted,
      enrolled: stats.enrolled,
      fromState: stats.enrolledFromState,
      active: stats.active,
      removed: stats.devicesRemoved,
      wiped: stats.devicesWiped,
      released: stats.devicesReleased,
    },
    heartbeats: {
      sent: stats.heartbeatsSent,
      ok: stats.heartbeatsOk,
      perSec: round1(stats.heartbeatsOk / beatingSec),
      steadyPerSec: steady ? round1((stats.heartbeatsOk - steady.heartbeatsOk) / steady.seconds) : null,
      skippedOffline: stats.heartbeatsSkippedOffline,
      overrun: stats.heartbeatsOverrun,
    },
    sessionsOpened: stats.sessionsOpened,
    sessionsAfter401: stats.sessionsAfter401,
    errors: { total: stats.errorCount, byKind: Object.fromEntries([...stats.errors].sort((a, b) => b[1] - a[1])) },
    latencyMs,
    schedulerLagMs: stats.schedulerLag.summary(),
    commands: {
      received: c.received,
      executed: c.executed,
      succeeded: c.succeeded,
      failed: c.failed,
      rejected: c.rejected,
      rejectedBy: Object.fromEntries(c.rejectedBy),
      resultsReported: c.resultsReported,
      resultsNotFound: c.resultsNotFound,
      resultRetries: c.resultRetries,
      byChannel: Object.fromEntries(c.byChannel),
    },
    policies: { ...stats.policies },
    cpu: {
      userSec: round1(meta.cpu.user / 1e6),
      systemSec: round1(meta.cpu.system / 1e6),
      percentOfOneCore: Math.round(((meta.cpu.user + meta.cpu.system) / 1e6 / Math.max(0.001, durationSec)) * 100),
      steadyPercentOfOneCore: steady ? Math.round((steady.cpuSec / steady.seconds) * 100) : null,
    },
  };
}

/** The full-rate part of the run, when it lasted at least a second. */
function steadyWindow(stats: Stats, now: number): { heartbeatsOk: number; seconds: number; cpuSec: number } | null {
  if (!stats.steady || now - stats.steady.atMs < 1000) return null;
  const cpu = process.cpuUsage(stats.steady.cpu);
  return { heartbeatsOk: stats.steady.heartbeatsOk, seconds: (now - stats.steady.atMs) / 1000, cpuSec: (cpu.user + cpu.system) / 1e6 };
}

const ms = (l: LatencySummary) => `p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms, max ${l.max} ms (n=${l.count})`;

export function formatSummary(s: FleetSummary): string {
  const d = s.devices;
  const c = s.commands;
  const lines = [
    `Simulator summary (${s.url}, ${s.durationSec} s, seed ${s.seed}, chaos ${s.chaos}, interval ${s.intervalSec} s)`,
    `  devices      ${d.enrolled}/${d.wanted} enrolled (${d.fromState} from state), ${d.active} active, ${d.removed} removed, ${d.wiped} wiped, ${d.released} released`,
    `  heartbeats   ${s.heartbeats.ok}/${s.heartbeats.sent} ok, ${s.heartbeats.perSec}/s` +
      (s.heartbeats.steadyPerSec === null ? '' : ` (${s.heartbeats.steadyPerSec}/s with every device up)`) +
      `; ${s.heartbeats.skippedOffline} skipped offline, ${s.heartbeats.overrun} overrun`,
    `  sessions     ${s.sessionsOpened} opened (${s.sessionsAfter401} after a 401)`,
    `  errors       ${s.errors.total}`,
    ...Object.entries(s.errors.byKind).map(([kind, n]) => `    ${kind}: ${n}`),
    ...Object.entries(s.latencyMs).map(([kind, l]) => `  latency      ${kind.padEnd(9)} ${ms(l)}`),
    `  sched. lag   ${ms(s.schedulerLagMs)}`,
    `  commands     ${c.received} received, ${c.executed} executed (${c.succeeded} ok, ${c.failed} failed), ${c.rejected} rejected` +
      (c.rejected > 0 ? ` ${JSON.stringify(c.rejectedBy)}` : ''),
    `  results      ${c.resultsReported} reported, ${c.resultsNotFound} answered 404, ${c.resultRetries} retried`,
    ...(s.policies.applied || s.policies.rejected
      ? [
          `  policies     ${s.policies.applied} applied, ${s.policies.rejected} refused; items ${s.policies.itemsFailed} failed, ` +
            `${s.policies.itemsUnsupported} unsupported`,
        ]
      : []),
    `  cpu          ${s.cpu.userSec} s user, ${s.cpu.systemSec} s system (${s.cpu.percentOfOneCore}% of one core` +
      (s.cpu.steadyPercentOfOneCore === null ? ')' : `, ${s.cpu.steadyPercentOfOneCore}% with every device up)`),
  ];
  return lines.join('\n') + '\n';
}

/** Latency percentiles from raw samples (milliseconds); the benchmark keeps every sample. */
export function percentiles(samples: Float64Array | number[], ps: number[]): Record<string, number> {
  const sorted = Float64Array.from(samples).sort();
  const out: Record<string, number> = {};
  for (const p of ps) {
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    out[`p${p}`] = sorted.length ? Math.round(sorted[i]! * 100) / 100 : 0;
  }
  return out;
}

/** Peak and current resident set size of a process, from /proc (Linux). */
export async function rss(pid: number): Promise<{ rssMb: number; peakMb: number } | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** Whole CPU seconds (user + system) a process has used, from /proc (Linux). */
export async function cpuSeconds(pid: number): Promise<number | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return null;
  }
}

/** CPU seconds used so far by every PostgreSQL server process on this machine (Linux /proc). */
export async function postgresCpuSeconds(): Promise<number> {
  const { readdir, readFile } = await import('node:fs/promises');
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (!/^\d+ \((postgres|postmaster)\)/.test(stat)) continue;
      const fields = stat.split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      /* the process ended */
    }
  }
  return total;
}

/** The server's write-ahead-log counters (cluster-wide, PostgreSQL 14+) and checkpoints so far. */
export interface WalCounters {
  bytes: number;
  fullPageImages: number;
  checkpoints: number;
}

export async function walCounters(query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>): Promise<WalCounters> {
  const { rows } = await query(
    `select w.wal_bytes::float8 as bytes, w.wal_fpi::float8 as fpi, (b.checkpoints_timed + b.checkpoints_req)::float8 as checkpoints
     from pg_stat_wal w, pg_stat_bgwriter b`,
  );
  const r = rows[0]!;
  return { bytes: Number(r.bytes), fullPageImages: Number(r.fpi), checkpoints: Number(r.checkpoints) };
}

/**
 * CPU seconds used by the PostgreSQL backends serving one database, sampled while a run goes on:
 * unlike `postgresCpuSeconds` it does not count other databases' work on a shared cluster (another
 * benchmark, a test suite), nor the cluster's background processes (WAL writer, checkpointer),
 * which `postgresCpuSeconds` includes. Backends present at the first sample count from there, those
 * that start later count whole; one that ends between samples loses at most an interval's worth.
 */
export function databaseBackendCpu(
  query: (sql: string, params: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>,
  database: string,
  intervalMs = 250,
): { stop(): Promise<number> } {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let initial = true;
  const sample = async () => {
    const wasInitial = initial;
    initial = false;
    const { rows } = await query('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
    for (const r of rows) {
      const pid = Number(r.pid);
      const cpu = await cpuSeconds(pid);
      if (cpu === null) continue;
      if (!first.has(pid)) first.set(pid, wasInitial ? cpu : 0);
      last.set(pid, cpu);
    }
  };
  let running = sample();
  const timer = setInterval(() => {
    running = running.then(sample, sample);
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running.catch(() => undefined);
      await sample();
      let total = 0;
      for (const [pid, cpu] of last) total += cpu - (first.get(pid) ?? cpu);
      return total;
    },
  };
}

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

import type { Writable } from 'node:stream';
import type { Stats } from './stats.js';

export type ProgressMode = 'tty' | 'plain' | 'off';

const TTY_EVERY_MS = 1_000;
const PLAIN_EVERY_MS = 10_000;

/**
 * The live view: on a terminal one line rewritten every second, otherwise (CI logs, pipes) a plain
 * line every 10 s. Rates and latencies are over the last period, totals since the start.
 * Returns a function that stops it (and ends the rewritten line so the summary starts clean).
 */
export function startProgress(stats: Stats, out: Writable, mode: ProgressMode): () => void {
  if (mode === 'off') return () => undefined;
  const everyMs = mode === 'tty' ? TTY_EVERY_MS : PLAIN_EVERY_MS;
  let lastOk = stats.heartbeatsOk;
  let lastAt = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const rate = ((stats.heartbeatsOk - lastOk) * 1000) / Math.max(1, now - lastAt);
    lastOk = stats.heartbeatsOk;
    lastAt = now;
    const line = progressLine(stats, rate);
    stats.recentLatency.reset();
    if (mode === 'plain') out.write(`${new Date(now).toISOString()} ${line}\n`);
    // A line longer than the terminal would wrap, and \r only returns to the start of the last row.
    else out.write(`\r\x1b[2K${line.slice(0, terminalWidth(out) - 1)}`);
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (mode === 'tty') out.write('\n');
  };
}

export function progressLine(stats: Stats, ratePerSec: number): string {
  const recent = stats.recentLatency;
  const errors = [...stats.errors].sort((a, b) => b[1] - a[1]).slice(0, 3);
  const errorText = errors.length ? ` (${errors.map(([k, n]) => `${k}: ${n}`).join(', ')})` : '';
  return (
    `enrolled ${stats.enrolled}/${stats.devicesWanted}  active ${stats.active}  ` +
    `hb/s ${Math.round(ratePerSec)}  hb ${stats.heartbeatsOk}/${stats.heartbeatsSent}  ` +
    `p50 ${fmt(recent.quantile(0.5))} p99 ${fmt(recent.quantile(0.99))}  ` +
    `errors ${stats.errorCount}${errorText}`
  );
}

const fmt = (ms: number) => (ms >= 100 ? `${Math.round(ms)}ms` : `${ms.toFixed(1)}ms`);

function terminalWidth(out: Writable): number {
  return 'columns' in out && typeof out.columns === 'number' && out.columns > 20 ? out.columns : 160;
}

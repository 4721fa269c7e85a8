import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startServer, type ServerProcess } from '../helpers/server.js';

const CONSOLE_BUILD = join(REPO_ROOT, 'web/build');
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const hasConsole = await stat(join(CONSOLE_BUILD, 'index.html')).then(
  () => true,
  () => false,
);

/**
 * Prometheus scraping the real standalone server while it serves the built console: the console's
 * page fallback must not answer /metrics (it did, with index.html, and Prometheus marked the target down).
 */
describe.skipIf(!hasConsole)('GET /metrics next to the built console', () => {
  const token = randomBytes(24).toString('base64url');
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(
      {
        CONSOLE_DIR: CONSOLE_BUILD,
        METRICS_TOKEN: token,
        ADMIN_EMAIL: 'admin@example.com',
        ADMIN_PASSWORD: 'metrics test password',
        ADMIN_BCRYPT_ROUNDS: '4',
        DATABASE_URL: '',
      },
      { readyTimeoutMs: 90_000 },
    );
  });
  afterAll(() => server?.stop());

  it('answers the Prometheus text format to the token, parsed by a Prometheus parser', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await res.text());
    const names = families.map((f) => f.name);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(families.length).toBeGreaterThan(10);
    for (const f of families) expect(['COUNTER', 'GAUGE', 'HISTOGRAM', 'SUMMARY', 'UNTYPED']).toContain(f.type);
  });

  it.skipIf(!PROMTOOL)('passes promtool check metrics without a complaint', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    // promtool reads the exposition on stdin and prints one line per problem (exit 0 either way for lint problems)
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(PROMTOOL!, ['check', 'metrics'], (err, stdout, stderr) =>
        err && !stdout && !stderr ? reject(err) : resolve(`${stdout}${stderr}`),
      );
      child.stdin!.on('error', reject); // promtool gone before reading it all: this test fails, not the process
      child.stdin!.end(text);
    });
    expect(out.trim()).toBe('');
    // the per-type gauges stay; their sum is what the removed *_total gauges said
    expect(text).toMatch(/^nodejs_active_handles\{/m);
  });

  it('answers 401 without the token or with a wrong one, never the console page', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
      const res = await fetch(`${server.url}/metrics`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/json');
    }
    // the console still answers its own pages
    const page = await fetch(`${server.url}/devices`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });
});

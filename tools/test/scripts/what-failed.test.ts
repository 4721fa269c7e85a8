import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whatFailed } from '../../scripts/what-failed.mjs';

/** Vitest's colour codes, as a reporter writes them with FORCE_COLOR. */
const COLOUR = String.fromCharCode(27) + '\\[[0-9;]*m';
const VITEST = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'vitest');

/** A real Vitest run's whole output (stdout and stderr, as `npm test` collects them), and its exit code. */
function vitest(dir: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(VITEST, ['run', '--root', dir], { env: { ...process.env, FORCE_COLOR: '1', CI: '1' } }, () => {});
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

describe("npm test's summary of what failed", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fmdm-what-failed-'));
    await writeFile(join(dir, 'vitest.config.mjs'), 'export default { test: { include: ["*.test.mjs"] } };\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("repeats a Vitest run's unhandled error and the file it arrived in, without the passing files' lines", async () => {
    // the shape CI met: every test passes, and an error nobody awaited arrives while a hook runs
    await writeFile(
      join(dir, 'leak.test.mjs'),
      [
        'import { beforeAll, it, expect } from "vitest";',
        'beforeAll(async () => { setTimeout(() => Promise.reject(new Error("connection to a dropped database")), 5); await new Promise((r) => setTimeout(r, 50)); });',
        'it("passes quietly", () => expect(1).toBe(1));',
        '',
      ].join('\n'),
    );
    const { code, output } = await vitest(dir);
    expect(code).toBe(1);
    const summary = whatFailed(output);
    expect(summary).toContain('Unhandled Rejection');
    expect(summary).toContain('connection to a dropped database');
    expect(summary).toContain('leak.test.mjs');
    expect(output.replace(new RegExp(COLOUR, 'g'), '')).toContain('✓ leak.test.mjs');
    expect(summary).not.toContain('✓'); // the passing files' lines stay above
    expect(output).toMatch(new RegExp(COLOUR));
    expect(summary).not.toMatch(new RegExp(COLOUR)); // colours stripped
    await rm(join(dir, 'leak.test.mjs'));
  }, 60_000);

  it("repeats a failed test's assertion", async () => {
    await writeFile(
      join(dir, 'fail.test.mjs'),
      ['import { it, expect } from "vitest";', 'it("counts the beats", () => expect(2).toBe(3));', ''].join('\n'),
    );
    const { code, output } = await vitest(dir);
    expect(code).toBe(1);
    const summary = whatFailed(output);
    expect(summary).toContain('Failed Tests 1');
    expect(summary).toContain('counts the beats');
    expect(summary).toMatch(/expected 2 to be 3/);
    await rm(join(dir, 'fail.test.mjs'));
  }, 60_000);

  it("gives any other step's last 60 lines", () => {
    const output = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const summary = whatFailed(output).split('\n');
    expect(summary).toHaveLength(60);
    expect(summary[0]).toBe('line 40');
    expect(summary.at(-1)).toBe('line 99');
  });
});

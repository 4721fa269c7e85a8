// `npm test`: every check and every suite, in two lanes that overlap.
//   checks: typecheck -> lint -> agent core (JVM) -> tools suite -> the console's demo and Lighthouse files
//   suites: functions -> the rest of the console's suite                      - output streamed
// The functions suite is the longest step and spends part of its time waiting on servers and timers:
// the checks and the tools suite fit beside it. The console's suite follows it (and the typecheck: both
// write web/.svelte-kit). It was tried whole beside the functions suite too: with two browsers, two
// servers and the functions suite's own on two cores, servers took over 30 s to start and the suite
// lost more than it gained (docs/benchmarks.md, the test run). Its two longest files are light: the
// demo waits a minute on its own timers and Lighthouse loads one page at a time, so they run in the
// checks lane, beside the functions suite's end, and the rest of the console's suite after them (their
// set-up builds the same console). `npm test -w web` alone still runs every file. The first failure
// stops everything, and what failed is printed again at the very end (what-failed.mjs): CI shows the
// end of the output, and the lane stopped midway no longer prints its own output over it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { whatFailed } from './what-failed.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const children = new Set();
let failed = false;

/** The part of a failed step's output that says what failed, repeated at the very end of the run. */
let failure;

function run(label, args, { buffer }) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(npm, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    const chunks = [];
    const keep = (c) => chunks.push(c);
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (!buffer) {
      // streamed as it comes, and kept for the summary of a failure
      child.stdout.on('data', (c) => process.stdout.write(c));
      child.stderr.on('data', (c) => process.stderr.write(c));
    }
    child.once('exit', async (code, signal) => {
      children.delete(child);
      // the output still in the pipes, unless a process the step left behind holds them open
      await Promise.race([new Promise((r) => child.once('close', r)), new Promise((r) => setTimeout(r, 2000))]);
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      const stopped = failed && signal === 'SIGTERM';
      if (stopped) {
        // stopped because the other lane failed: its output would only push that failure out of sight
        process.stdout.write(`\n[test-all] ${label}: stopped after ${secs} s (the other lane failed)\n`);
        reject(new Error(`${label} stopped`));
        return;
      }
      if (buffer && (chunks.length > 0 || code !== 0)) {
        process.stdout.write(`\n----- ${label} -----\n${Buffer.concat(chunks).toString()}`);
      }
      process.stdout.write(`\n[test-all] ${label}: ${code === 0 ? 'passed' : `FAILED (${signal ?? code})`} in ${secs} s\n`);
      if (code === 0) resolve();
      else {
        failure ??= { label, text: whatFailed(Buffer.concat(chunks).toString()) };
        reject(new Error(`${label} failed`));
      }
    });
  });
}

function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

// The children run in their own process groups (so a failure can stop a lane's whole tree): pass an
// interrupt on to them.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}

/** The console's files that run in the checks lane (paths in web/). */
const CONSOLE_SIDE_FILES = ['tests/demo.test.ts', 'tests/lighthouse.test.ts'];

const checks = (async () => {
  await run('typecheck', ['run', 'typecheck'], { buffer: true });
  await run('lint', ['run', 'lint'], { buffer: true });
  await run('agent core', ['run', 'test:agent'], { buffer: true });
  await run('tools tests', ['test', '-w', 'tools'], { buffer: true });
  await run('web tests: demo and Lighthouse', ['exec', '-w', 'web', '--', 'vitest', 'run', ...CONSOLE_SIDE_FILES], { buffer: true });
})();

const suites = (async () => {
  await run('functions tests', ['test', '-w', 'functions'], { buffer: false });
  await checks;
  const exclude = CONSOLE_SIDE_FILES.flatMap((f) => ['--exclude', f]);
  await run('web tests: the rest', ['exec', '-w', 'web', '--', 'vitest', 'run', ...exclude], { buffer: false });
})();

const started = performance.now();
const lanes = [checks, suites].map((p) =>
  p.catch((err) => {
    if (!failed) {
      failed = true;
      process.stdout.write(`\n[test-all] ${err.message}: stopping the other lane\n`);
      stopAll();
    }
    throw err;
  }),
);
const results = await Promise.allSettled(lanes);
const secs = ((performance.now() - started) / 1000).toFixed(0);
const ok = results.every((r) => r.status === 'fulfilled');
if (failure) process.stdout.write(`\n[test-all] what failed in ${failure.label} (repeated from above):\n${failure.text}\n`);
process.stdout.write(`\n[test-all] ${ok ? 'everything passed' : 'FAILED'} in ${secs} s\n`);
process.exit(ok ? 0 : 1);

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
// stops everything.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const children = new Set();
let failed = false;

function run(label, args, { buffer }) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(npm, args, { cwd: root, stdio: buffer ? ['ignore', 'pipe', 'pipe'] : 'inherit', detached: true });
    children.add(child);
    const chunks = [];
    if (buffer) {
      child.stdout.on('data', (c) => chunks.push(c));
      child.stderr.on('data', (c) => chunks.push(c));
    }
    child.once('exit', (code, signal) => {
      children.delete(child);
      const secs = ((performance.now() - started) / 1000).toFixed(0);
      if (buffer && (chunks.length > 0 || code !== 0)) {
        process.stdout.write(`\n----- ${label} -----\n${Buffer.concat(chunks).toString()}`);
      }
      process.stdout.write(`\n[test-all] ${label}: ${code === 0 ? 'passed' : `FAILED (${signal ?? code})`} in ${secs} s\n`);
      if (code === 0) resolve();
      else reject(new Error(`${label} failed`));
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
process.stdout.write(`\n[test-all] ${ok ? 'everything passed' : 'FAILED'} in ${secs} s\n`);
process.exit(ok ? 0 : 1);

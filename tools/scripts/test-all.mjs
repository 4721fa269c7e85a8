// `npm test`: every check and every suite, in two lanes that overlap on the two cores.
//   functions lane: the functions suite (the longest step, output streamed), then whatever is left
//   checks lane:    typecheck -> lint -> agent core (JVM) -> tools suite -> console suite
// Each step but the functions suite keeps its output and prints it when it ends. The functions suite
// spends a good part of its time waiting on servers and timers, so the other steps fit beside it
// (docs/benchmarks.md, the test run). The first failure stops everything and the exit code is non-zero.
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

let typechecked;
const typecheckDone = new Promise((resolve, reject) => (typechecked = { resolve, reject }));
typecheckDone.catch(() => {});

// The checks lane works through these in order; the functions lane takes whichever are left when the
// functions suite ends. The console's suite waits for the typecheck (both write web/.svelte-kit).
const steps = [
  ['typecheck', ['run', 'typecheck']],
  ['lint', ['run', 'lint']],
  ['agent core', ['run', 'test:agent']],
  ['tools tests', ['test', '-w', 'tools']],
  ['web tests', ['test', '-w', 'web']],
];

async function takeSteps() {
  for (let step = steps.shift(); step && !failed; step = steps.shift()) {
    const [label, args] = step;
    if (label === 'web tests') await typecheckDone;
    const done = run(label, args, { buffer: true });
    if (label === 'typecheck') done.then(typechecked.resolve, typechecked.reject);
    await done;
  }
}

const checks = takeSteps();
const suites = run('functions tests', ['test', '-w', 'functions'], { buffer: false }).then(takeSteps);

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

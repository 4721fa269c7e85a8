import { execFile } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { StandaloneServer } from './helpers/server.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Once per run: the real backend build (functions/lib) and the real console build (web/build) that
 * the standalone server serves - the browser tests exercise exactly what `npm start` runs.
 */
export default async function setup(project: TestProject) {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  await access(chromium).catch(() => {
    throw new Error(`the browser tests need Debian's Chromium at ${chromium}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  });
  // While iterating on one test: E2E_SKIP_BUILD=1 reuses the builds already on disk.
  if (process.env.E2E_SKIP_BUILD !== '1') await build();
  const template = await dataDirTemplate();
  project.provide('dataDirTemplate', template);
  return () => rm(template, { recursive: true, force: true });
}

/**
 * The server started once on an empty DATA_DIR and stopped: migrated, its secrets and first admin
 * made. Each test's server starts on a copy of it (helpers/server.ts), as a restarted `npm start` does.
 */
async function dataDirTemplate(): Promise<string> {
  const started = performance.now();
  const server = await StandaloneServer.start({}, { fresh: true });
  await server.stop();
  process.stdout.write(`data directory template ready in ${Math.round(performance.now() - started)} ms\n`);
  return server.dataDir;
}

async function build() {
  const started = performance.now();
  await Promise.all([
    // tsc emits despite type errors; those are the typecheck step's to report.
    run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: `${root}functions` }).catch((err: { stdout?: string }) => {
      process.stderr.write(`functions build reported type errors:\n${err.stdout ?? ''}\n`);
    }),
    // skipped when the sources are those of the last build (npm ci's prepare has usually just made it)
    run('node', ['scripts/build-console.mjs', '--if-changed', '--logLevel', 'warn'], { cwd: `${root}web` }),
    // the simulator, for the demo's test (web/scripts/demo.mjs runs tools/lib/sim)
    run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: `${root}tools` }),
  ]);
  process.stdout.write(`builds ready in ${Math.round(performance.now() - started)} ms\n`);
}

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildServer } from './sim/helpers/server.js';

/**
 * Once per run, not once per file: the backend build the end-to-end tests start (functions/lib, the
 * server as it ships) and the tools' own (tools/lib: the `mdm` bin shim and the benchmarks run it).
 */
export default async function setup() {
  await Promise.all([buildServer(), promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: join(import.meta.dirname, '..') })]);
}

// Builds the console (vite build into web/build) and records a hash of everything the build reads.
// `--if-changed` builds only when that hash differs from the last build's: the browser tests' set-up
// then reuses the build `npm ci` (prepare) just made instead of writing web/build again while other
// suites may be serving it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const root = join(web, '..');
const INPUTS = [
  join(web, 'src'),
  join(web, 'static'),
  join(web, 'svelte.config.js'),
  join(web, 'vite.config.ts'),
  join(web, 'tsconfig.json'),
  join(web, 'package.json'),
  join(root, 'package-lock.json'),
];
const record = join(web, 'node_modules', '.cache', 'console-build.sha256');

function* files(path) {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) yield* files(join(path, name));
  } else {
    yield path;
  }
}

function sourceHash() {
  const h = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of files(input)) {
      // test files are not part of the build
      if (/\.test\.ts$/.test(file)) continue;
      h.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return h.digest('hex');
}

const hash = sourceHash();
const last = existsSync(record) ? readFileSync(record, 'utf8').trim() : '';
if (process.argv.includes('--if-changed') && hash === last && existsSync(join(web, 'build', 'index.html'))) {
  process.stdout.write('console build is up to date\n');
  process.exit(0);
}
const passOn = process.argv.slice(2).filter((a) => a !== '--if-changed');
const built = spawnSync('npx', ['vite', 'build', ...passOn], { cwd: web, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
mkdirSync(join(web, 'node_modules', '.cache'), { recursive: true });
writeFileSync(record, `${hash}\n`);

// `npm start`: compiles the server when the build is missing or older than its sources (npm ci has
// already built it; an edit since then rebuilds), then runs the standalone server in this process.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
};
const newestSource = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestSource(path));
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? Math.max(newest, mtime(path)) : newest;
  }, 0);

// tsc's build info marks the last build (incremental builds leave unchanged outputs untouched)
const buildInfo = join(root, 'lib/.tsbuildinfo');
const built = mtime(join(root, 'lib/standalone/main.js')) ? mtime(buildInfo) : 0;
const sources = Math.max(newestSource(join(root, 'src')), mtime(join(root, 'tsconfig.build.json')), mtime(join(root, 'package.json')));
if (built < sources) {
  const tsc = spawnSync(process.execPath, [join(root, '../node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  const now = new Date();
  utimesSync(buildInfo, now, now);
}
// The embedded database goes under ./data of the directory `npm start` ran in (npm sets INIT_CWD to
// it), not under functions/, where npm runs the workspace's script.
process.env.DATA_DIR ??= join(process.env.INIT_CWD ?? process.cwd(), 'data');
await import(pathToFileURL(join(root, 'lib/standalone/main.js')).href);

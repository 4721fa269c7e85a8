// A package-lock.json for functions/ alone, cut from the repository's lockfile: the production
// dependency closure of functions/package.json, each package at the version and integrity the tests
// ran with. Cloud Build then installs with `npm ci` exactly that tree instead of resolving the
// ranges afresh on each deploy. The deployed package.json loses its devDependencies (npm ci wants
// every dependency of package.json in the lockfile; the deployed code is built already).
// Usage, in the deploy job's checkout: node tools/scripts/functions-lockfile.mjs [functions dir, default functions/]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The lockfile of `workspace` (e.g. "functions") cut from the root lockfile `lock`. */
export function workspaceLockfile(lock, workspace, manifest) {
  const all = lock.packages;
  const out = {};
  /** Node's resolution over lockfile paths: from `from`, the nearest node_modules/<name> up the tree. */
  const resolveDep = (from, name) => {
    for (let dir = from; ;) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (all[candidate]) return candidate;
      if (!dir) return undefined;
      const i = dir.lastIndexOf('/node_modules/');
      dir = i >= 0 ? dir.slice(0, i) : dir.startsWith('node_modules/') || dir === workspace ? '' : dir.slice(0, dir.lastIndexOf('/'));
    }
  };
  const mapped = (path) => (path.startsWith(`${workspace}/`) ? path.slice(workspace.length + 1) : path);
  const visit = (from, deps, optional) => {
    for (const name of Object.keys(deps ?? {})) {
      const at = resolveDep(from, name);
      if (!at) {
        if (optional.has(name)) continue;
        throw new Error(`${name} (needed by ${from || 'the root'}) is not in the lockfile`);
      }
      const key = mapped(at);
      if (out[key]) {
        if (out[key] !== all[at]) throw new Error(`${key} resolves to two versions; cannot flatten`);
        continue;
      }
      const entry = all[at];
      out[key] = entry;
      if (entry.link) throw new Error(`${name} is a workspace link; functions cannot depend on another workspace`);
      const peerOptional = new Set(
        Object.entries(entry.peerDependenciesMeta ?? {})
          .filter(([, m]) => m.optional)
          .map(([n]) => n),
      );
      const optionalDeps = new Set([...Object.keys(entry.optionalDependencies ?? {}), ...peerOptional]);
      visit(at, { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }, optionalDeps);
    }
  };
  visit(workspace, manifest.dependencies, new Set(Object.keys(manifest.optionalDependencies ?? {})));
  const { name, version, dependencies, engines } = manifest;
  const packages = { '': { name, version, dependencies, engines } };
  for (const key of Object.keys(out).sort()) {
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = out[key];
    packages[key] = entry;
  }
  return { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? join(root, 'functions'));
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const { devDependencies: _dev, ...manifest } = JSON.parse(readFileSync(join(root, 'functions/package.json'), 'utf8'));
  const result = workspaceLockfile(lock, 'functions', manifest);
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${dir}/package.json (no devDependencies) and package-lock.json: ${Object.keys(result.packages).length - 1} packages`);
}

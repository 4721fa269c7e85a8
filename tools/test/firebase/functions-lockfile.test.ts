import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain .mjs script, without types
import { workspaceLockfile } from '../../scripts/functions-lockfile.mjs';

type Entry = { version?: string; integrity?: string; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
type Lock = { packages: Record<string, Entry> };

/**
 * The deployed functions install from a lockfile cut from the repository's: the same versions and
 * integrity hashes the tests ran with, every dependency of every package in it, no test tooling.
 * (`npm ci --omit=dev --offline` from it installs 343 packages; too slow to repeat here.)
 */
const read = (path: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8'));
const rootLock = read('package-lock.json') as Lock;
const { devDependencies: _dev, ...manifest } = read('functions/package.json') as {
  dependencies: Record<string, string>;
  devDependencies: object;
};
const lock = workspaceLockfile(rootLock, 'functions', manifest) as Lock;

describe('the functions lockfile cut for the deploy', () => {
  it("holds the functions' dependencies at the repository lockfile's versions and hashes", () => {
    for (const name of Object.keys(manifest.dependencies)) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, name).toBeDefined();
      expect(entry).toEqual(expect.objectContaining({ version: rootLock.packages[`node_modules/${name}`]!.version }));
    }
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '') continue;
      expect(entry.integrity, path).toBe(rootLock.packages[path]!.integrity);
    }
  });

  it('is closed: every dependency of a package in it resolves in it', () => {
    const paths = new Set(Object.keys(lock.packages));
    const resolves = (from: string, name: string) => {
      for (let dir = from; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
        if (paths.has(`${dir}/node_modules/${name}`)) return true;
        if (!dir.includes('/node_modules/')) return paths.has(`node_modules/${name}`);
      }
    };
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '') continue;
      for (const name of Object.keys(entry.dependencies ?? {})) expect(resolves(path, name), `${path} -> ${name}`).toBe(true);
    }
  });

  it('leaves out what only the tests use', () => {
    for (const name of ['vitest', 'typescript', '@firestore-emulator/server', 'smtp-server']) {
      expect(lock.packages[`node_modules/${name}`], name).toBeUndefined();
    }
  });
});

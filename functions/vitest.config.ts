import { defineConfig } from 'vitest/config';

/** The start-up test times the README's start command, so it runs alone, after everything else. */
const ALONE = ['test/e2e/start.test.ts'];
/**
 * Files that load the Firebase exports set the process's environment (the functions' params) and keep
 * the runtime in module state: each runs in a process of its own. Every other file shares its worker's
 * module cache with the files before it (isolate: false), which saves importing the backend afresh
 * for each of about a hundred files (docs/benchmarks.md, the test run).
 */
const OWN_PROCESS = ['test/medium/firebase-*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'backend',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...ALONE, ...OWN_PROCESS],
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'firebase', include: OWN_PROCESS, isolate: true, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'start-up', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});

import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';
import { longestFirst } from '../tools/scripts/longest-first.mjs';

export default defineConfig({
  plugins: [tailwindcss(), sveltekit()],
  server: { proxy: { '/api': process.env.MDM_API ?? 'http://localhost:8080' } },
  build: { chunkSizeWarningLimit: 600 },
  test: {
    // Two files at a time, browser tests too: each has its own server, data directory and browser on
    // free ports, and much of a file's time is spent waiting on timers and its server (docs/benchmarks.md).
    maxWorkers: 2,
    // The longest browser files first (a clean clone would order them by size): the demo's minute of
    // timers and Lighthouse's page loads beside the others rather than alone at the end.
    sequence: {
      sequencer: longestFirst(['tests/demo.test.ts', 'tests/lighthouse.test.ts', 'tests/field.test.ts', 'tests/console.test.ts']),
    },
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'], environment: 'node' } },
      // BROWSER_PROJECT
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/**/*.test.ts'],
          globalSetup: ['tests/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
    ],
  },
});

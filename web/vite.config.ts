import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [tailwindcss(), sveltekit()],
  server: { proxy: { '/api': process.env.MDM_API ?? 'http://localhost:8080' } },
  build: { chunkSizeWarningLimit: 600 },
  test: {
    // Two files at a time, browser tests too: each has its own server, data directory and browser on
    // free ports, and much of a file's time is spent waiting on timers and its server (docs/benchmarks.md).
    maxWorkers: 2,
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

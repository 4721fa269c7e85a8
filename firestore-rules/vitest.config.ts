import { defineConfig } from 'vitest/config';

/** The Firestore rules tests: only under the Firestore emulator (`npm run test:rules`), never in `npm test`. */
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['*.test.ts'],
    testTimeout: 30_000,
    fileParallelism: false,
  },
});

import type { BaseSequencer } from 'vitest/node';

/** A vitest sequencer class that starts the named files first (longest-first.mjs). */
export function longestFirst(first: readonly string[]): typeof BaseSequencer;

import { describe, expect, it } from 'vitest';
import {
  FULL_SCALE_LIMIT,
  MIN_CONNECTION_LIMIT,
  PLAN,
  connectionsUnder,
  instancesUnder,
  poolMaxUnder,
  reservedConnections,
  type FunctionName,
} from './plan.js';

const names = Object.keys(PLAN) as FunctionName[];

describe('DB_CONNECTION_LIMIT caps the pools', () => {
  // the smallest Cloud SQL tiers (25, 50), the default 100, a prime, a large tier, and every value up to 400
  const limits = [MIN_CONNECTION_LIMIT, 25, 50, 97, 100, 250, 1000, 4000, ...Array.from({ length: 391 }, (_, i) => i + 10)];

  it.each(limits)('with max_connections %i, all functions together stay under it, with the reserve free', (limit) => {
    expect(connectionsUnder(limit)).toBeLessThanOrEqual(limit - reservedConnections(limit));
    for (const fn of names) {
      expect(poolMaxUnder(fn, limit)).toBeGreaterThanOrEqual(1);
      expect(poolMaxUnder(fn, limit)).toBeLessThanOrEqual(Math.max(PLAN[fn].poolMax, PLAN[fn].concurrency));
    }
  });

  it('the default 100 is the plan as written: its instances and its pools', () => {
    expect(FULL_SCALE_LIMIT).toBeLessThanOrEqual(100);
    for (const fn of names) expect(instancesUnder(fn, 100)).toBe(PLAN[fn].maxInstances);
    for (const fn of names) expect(poolMaxUnder(fn, 100)).toBe(PLAN[fn].poolMax);
  });

  it('a bigger database gives bigger pools, a smaller one smaller pools', () => {
    expect(poolMaxUnder('heartbeat', 400)).toBeGreaterThan(poolMaxUnder('heartbeat', 100));
    expect(poolMaxUnder('heartbeat', 50)).toBeLessThan(poolMaxUnder('heartbeat', 100));
  });

  it('refuses a limit no deployment can live under', () => {
    expect(() => poolMaxUnder('api', MIN_CONNECTION_LIMIT - 1)).toThrow(/DB_CONNECTION_LIMIT/);
    expect(() => poolMaxUnder('api', 12.5)).toThrow(/DB_CONNECTION_LIMIT/);
  });
});

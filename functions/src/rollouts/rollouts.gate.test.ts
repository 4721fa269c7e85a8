import { describe, expect, it } from 'vitest';
import { decideGate, waveCuts } from './rollouts.gate.js';
import { marginSchema, type CohortHealth } from './rollouts.schemas.js';

const healthy: CohortHealth = {
  devices: 100,
  samples: 400,
  appDownPct: 1,
  frozenPct: 0.5,
  offlinePct: 2,
  crashes: 1,
  deviceHours: 10,
  crashesPerDeviceHour: 0.1,
};
const margin = marginSchema.parse({});
const AT = new Date('2026-12-06T12:00:00Z');

describe('the gate', () => {
  it('passes a wave no worse than the baseline by the margin, and keeps the numbers', () => {
    const v = decideGate({ devices: 20, updated: 20 }, { ...healthy, appDownPct: 5.9 }, healthy, margin, AT);
    expect(v).toMatchObject({ passed: true, reasons: [], updatedPct: 100, wave: { appDownPct: 5.9 }, baseline: healthy, margin });
  });

  it('fails on each measure beyond its margin, naming it', () => {
    const wave = { ...healthy, appDownPct: 6.1, frozenPct: 5.6, offlinePct: 12.5, crashesPerDeviceHour: 1.2 };
    const v = decideGate({ devices: 20, updated: 17 }, wave, healthy, margin, AT);
    expect(v.passed).toBe(false);
    expect(v.reasons).toEqual([
      'updated 85% < 90%',
      'app down % 6.1 > 1 + 5',
      'frozen % 5.6 > 0.5 + 5',
      'offline % 12.5 > 2 + 10',
      'crashes per device-hour 1.2 > 0.1 + 1',
    ]);
  });
});

describe('wave cuts', () => {
  it('cuts cumulative percents of the devices, rounding up, never past the total', () => {
    const p = (...v: number[]) => v.map((value) => ({ kind: 'percent' as const, value }));
    expect(waveCuts(p(1, 10, 50, 100), 200)).toEqual([2, 20, 100, 200]);
    expect(waveCuts(p(1, 10, 50, 100), 7)).toEqual([1, 1, 4, 7]);
    expect(waveCuts(p(25, 60), 200)).toEqual([50, 120]);
  });

  it('adds counts up', () => {
    const c = (...v: number[]) => v.map((value) => ({ kind: 'count' as const, value }));
    expect(waveCuts(c(5, 20, 1000), 100)).toEqual([5, 25, 100]);
  });
});

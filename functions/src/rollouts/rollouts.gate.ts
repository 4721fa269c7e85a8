import type { CohortHealth, Margin, Verdict } from './rollouts.schemas.js';

/**
 * The gate after a wave's soak (docs/rollouts.md#the-gate). It passes when
 *   updated / devices >= minUpdatedPct, and for each of app down %, frozen %, offline % and crashes
 *   per device-hour: wave <= baseline + margin.
 * The baseline is the rollout's devices still on A over the same soak; when none are left (the last
 * wave of a rollout to 100 %) it is all zeros, so the margins become absolute limits.
 */
export function decideGate(
  counts: { devices: number; updated: number },
  wave: CohortHealth,
  baseline: CohortHealth,
  margin: Margin,
  at: Date,
): Verdict {
  const reasons: string[] = [];
  const updatedPct = counts.devices === 0 ? 100 : Math.round((10_000 * counts.updated) / counts.devices) / 100;
  if (updatedPct < margin.minUpdatedPct) reasons.push(`updated ${updatedPct}% < ${margin.minUpdatedPct}%`);
  const worse = (label: string, w: number, b: number, m: number) => {
    if (w > b + m) reasons.push(`${label} ${w} > ${b} + ${m}`);
  };
  worse('app down %', wave.appDownPct, baseline.appDownPct, margin.appDownPct);
  worse('frozen %', wave.frozenPct, baseline.frozenPct, margin.frozenPct);
  worse('offline %', wave.offlinePct, baseline.offlinePct, margin.offlinePct);
  worse('crashes per device-hour', wave.crashesPerDeviceHour, baseline.crashesPerDeviceHour, margin.crashesPerDeviceHour);
  return { passed: reasons.length === 0, at: at.toISOString(), updatedPct, wave, baseline, margin, reasons };
}

/** Where each wave ends in the hash order: cumulative percents of `total`, or counts added up; capped at total. */
export function waveCuts(waves: { kind: 'percent' | 'count'; value: number }[], total: number): number[] {
  const cuts: number[] = [];
  let end = 0;
  for (const w of waves) {
    const want = w.kind === 'percent' ? Math.ceil((total * w.value) / 100) : end + w.value;
    end = Math.min(total, Math.max(end, want));
    cuts.push(end);
  }
  return cuts;
}

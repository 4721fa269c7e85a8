import { describe, expect, it } from 'vitest';
import { UsageError } from '../output.js';
import { parseHoursSpec } from './groups.js';

describe('groups hours --hours', () => {
  it('sets days, spans and daily; an empty range list closes the day', () => {
    const weekly = {};
    parseHoursSpec('daily=09:00-21:00', weekly);
    parseHoursSpec('fri-sat=09:00-21:00,22:00-24:00', weekly);
    parseHoursSpec('sun=', weekly);
    expect(weekly).toEqual({
      mon: [[540, 1260]],
      tue: [[540, 1260]],
      wed: [[540, 1260]],
      thu: [[540, 1260]],
      fri: [
        [540, 1260],
        [1320, 1440],
      ],
      sat: [
        [540, 1260],
        [1320, 1440],
      ],
      sun: [],
    });
  });

  it('refuses what it cannot read', () => {
    for (const bad of ['mon', 'fri-mon=09:00-10:00', 'xyz=09:00-10:00', 'mon=9-10', 'mon=09:00'])
      expect(() => parseHoursSpec(bad, {}), bad).toThrow(UsageError);
  });
});

import { describe, expect, it } from 'vitest';
import { formatRanges, parseRanges } from './alert-hours.js';

describe('alert hours text', () => {
  it('reads ranges and writes them back', () => {
    expect(parseRanges('09:00-21:00')).toEqual({ ranges: [[540, 1260]] });
    expect(parseRanges(' 22:00-24:00 , 0:00-2:30')).toEqual({
      ranges: [
        [0, 150],
        [1320, 1440],
      ],
    });
    expect(parseRanges('')).toEqual({ ranges: [] });
    expect(formatRanges([[540, 1260], [1320, 1440]])).toBe('09:00-21:00, 22:00-24:00');
  });

  it('says what is wrong', () => {
    expect(parseRanges('9-21')).toHaveProperty('error');
    expect(parseRanges('21:00-09:00')).toMatchObject({ error: expect.stringContaining('overnight') });
    expect(parseRanges('09:00-12:00, 11:00-13:00')).toMatchObject({ error: expect.stringContaining('overlap') });
    expect(parseRanges('24:30-25:00')).toHaveProperty('error');
  });
});

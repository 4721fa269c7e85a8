import { describe, expect, it } from 'vitest';
import { ApiError } from './api.js';
import { formError, plainIssue } from './errors.js';

describe('server errors in plain words', () => {
  it('says what a zod issue means', () => {
    expect(plainIssue('Invalid input: expected number, received null')).toBe('Enter a number.');
    expect(plainIssue('Too small: expected number to be >=30')).toBe('Must be at least 30.');
    expect(plainIssue('Too big: expected number to be <=50')).toBe('Must be at most 50.');
    expect(plainIssue('letters, digits, space, _ . : - (1-64 characters)')).toBe(
      'Use only letters, digits, space, _ . : - (1-64 characters).',
    );
  });

  it('puts each problem on its field, by path', () => {
    const err = new ApiError(
      400,
      'invalid_request',
      'invalid body - maxUses: Invalid input: expected number, received null; group: letters, digits, space, _ . : - (1-64 characters)',
    );
    const f = formError(err, { maxUses: 'Devices it may enroll', group: 'Group' });
    expect(f.fields).toEqual({ maxUses: 'Enter a number.', group: 'Use only letters, digits, space, _ . : - (1-64 characters).' });
    expect(f.message).toBe('Please correct the highlighted fields.');
    expect(f.message).not.toMatch(/invalid body|received null/);
    const nested = formError(
      new ApiError(400, 'invalid_request', 'invalid body - thresholds.offlineAfterSec: Too small: expected number to be >=30'),
      {
        'thresholds.offlineAfterSec': 'Offline after',
      },
    );
    expect(nested.fields).toEqual({ 'thresholds.offlineAfterSec': 'Must be at least 30.' });
  });

  it('turns the body size limit into a sentence', () => {
    const f = formError(new ApiError(413, 'payload_too_large', 'request bodies are limited to 65536 bytes'));
    expect(f.message).toBe('That is too much to send at once (the server accepts up to 64 KB). Shorten the text or send fewer entries.');
    expect(f.message).not.toContain('65536');
  });
});

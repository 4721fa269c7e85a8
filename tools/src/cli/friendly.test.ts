import { describe, expect, it } from 'vitest';
import { ApiError } from './api.js';
import { friendlyMessage } from './friendly.js';

const invalid = (message: string) => new ApiError(400, 'invalid_request', message);

describe('friendlyMessage', () => {
  it('rewords each zod problem with the option the operator typed', () => {
    const fields = { maxUses: '--max-uses', expiresInSec: '--expires-in' };
    expect(friendlyMessage(invalid('invalid body - maxUses: Invalid input: expected number, received null'), fields)).toBe(
      '--max-uses must be a number, not null',
    );
    expect(
      friendlyMessage(
        invalid(
          'invalid body - expiresInSec: Too big: expected number to be <=7776000; label: Too big: expected string to have <=100 characters',
        ),
        fields,
      ),
    ).toBe('--expires-in must be at most 7776000; label must be at most 100 characters long');
    expect(friendlyMessage(invalid('invalid body - email: Invalid input: expected string, received undefined'))).toBe('email is required');
    expect(friendlyMessage(invalid('invalid body - deviceIds: Too small: expected array to have >=1 items'))).toBe(
      'deviceIds takes at least 1 item',
    );
    expect(friendlyMessage(invalid('invalid body - name: Too small: expected string to have >=1 characters'))).toBe(
      'name must not be empty',
    );
    expect(friendlyMessage(invalid('invalid body - thresholds: Unrecognized key: "bogus"'))).toBe('thresholds has no bogus');
    expect(friendlyMessage(invalid('invalid query - deviceId: Invalid UUID'))).toBe('deviceId must be a full id');
    expect(friendlyMessage(invalid('invalid body - name exactly one target: deviceIds, group, tag or all'))).toBe(
      'name exactly one target: deviceIds, group, tag or all',
    );
  });

  it('names the command type for refused params', () => {
    const err = new ApiError(
      400,
      'invalid_params',
      'invalid params for SET_CONFIG - heartbeatIntervalSec: Invalid input: expected int, received number',
    );
    expect(friendlyMessage(err)).toBe('SET_CONFIG param heartbeatIntervalSec must be a whole number');
    expect(friendlyMessage(new ApiError(400, 'invalid_params', 'invalid params for SET_CONFIG - name at least one setting'))).toBe(
      'name at least one setting',
    );
  });

  it('says what to do about sessions, roles and sizes', () => {
    expect(friendlyMessage(new ApiError(401, 'invalid_session', 'the session has expired'))).toBe(
      'the session has expired (mdm login to sign in again)',
    );
    expect(friendlyMessage(new ApiError(403, 'forbidden', 'your role does not allow this'))).toBe(
      'your role does not allow this (ask an admin)',
    );
    expect(friendlyMessage(new ApiError(413, 'payload_too_large', 'request bodies are limited to 65536 bytes'))).toBe(
      'that is more than the server accepts (64 KiB)',
    );
    expect(friendlyMessage(new ApiError(404, 'not_found', 'alert not found'))).toBe('alert not found');
  });
});

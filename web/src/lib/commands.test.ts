import { describe, expect, it } from 'vitest';
import { chunks, commandParams, needsConfirmation } from './commands.js';

const fields = { releaseId: '', allowDowngrade: false, interval: '', kioskPackage: '' };

describe('INSTALL_APK params from the form', () => {
  it('names a catalog release; the server fills in the URL, hashes and package', () => {
    const id = '1f3a9c2e-0000-4000-8000-000000000000';
    expect(commandParams('INSTALL_APK', { ...fields, releaseId: id })).toEqual({ releaseId: id });
    expect(commandParams('INSTALL_APK', { ...fields, releaseId: id, allowDowngrade: true })).toEqual({
      releaseId: id,
      allowDowngrade: true,
    });
  });

  it('says in plain words what is missing', () => {
    expect(commandParams('INSTALL_APK', fields)).toMatch(/Pick a release/);
  });
});

describe('blast radius in the console', () => {
  it('asks for a confirmation beyond one device, PING aside', () => {
    expect(needsConfirmation('REBOOT', ['a', 'b'])).toBe(true);
    expect(needsConfirmation('REBOOT', ['a', 'a'])).toBe(false);
    expect(needsConfirmation('PING', ['a', 'b'])).toBe(false);
  });

  it('splits ids into requests of at most 1,000, never leaving one request of a single id', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `d${i}`);
    expect(chunks(ids(1001)).map((c) => c.length)).toEqual([501, 500]);
    expect(chunks(ids(2000)).map((c) => c.length)).toEqual([1000, 1000]);
    expect(chunks(ids(3)).map((c) => c.length)).toEqual([3]);
    expect(chunks([...ids(2), 'd0']).map((c) => c.length)).toEqual([2]);
  });
});

import { describe, expect, it } from 'vitest';
import { commandParams } from './commands.js';

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

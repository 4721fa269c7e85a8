import { describe, expect, it } from 'vitest';
import { commandParams } from './commands.js';

const fields = {
  url: 'https://cdn.example.com/kiosk.apk',
  sha256: 'A'.repeat(64),
  signerSha256: 'b'.repeat(64),
  packageName: 'com.example.kiosk',
  versionCode: '241',
  interval: '',
  kioskPackage: '',
};

describe('INSTALL_APK params from the form', () => {
  it('carries what the agent verifies before installing: the sha256, the signer digest and the package', () => {
    expect(commandParams('INSTALL_APK', fields)).toEqual({
      url: 'https://cdn.example.com/kiosk.apk',
      sha256: 'a'.repeat(64),
      signerSha256: 'b'.repeat(64),
      packageName: 'com.example.kiosk',
      versionCode: 241,
    });
  });

  it('says in plain words what is missing', () => {
    expect(commandParams('INSTALL_APK', { ...fields, signerSha256: '' })).toMatch(/signing certificate/);
    expect(commandParams('INSTALL_APK', { ...fields, packageName: 'kiosk' })).toMatch(/package name/);
    expect(commandParams('INSTALL_APK', { ...fields, url: 'http://x/a.apk' })).toMatch(/https/);
  });
});

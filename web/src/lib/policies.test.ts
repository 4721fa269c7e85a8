import { describe, expect, it } from 'vitest';
import { fromForm, toForm, type PolicyDocument } from './policies.js';

describe('the policy form', () => {
  const doc: PolicyDocument = {
    kioskApp: { releaseId: 'r1' },
    heartbeatIntervalSec: 300,
    lockTaskFeatures: ['SYSTEM_INFO'],
    keyguardDisabled: true,
    statusBarDisabled: false,
    userRestrictions: ['no_safe_boot', 'no_add_user'],
    kioskPermissions: { 'android.permission.CAMERA': 'grant' },
    systemUpdate: { type: 'windowed', startMinute: 120, endMinute: 245 },
    screenTimeoutSec: 60,
    timeZone: 'Europe/Berlin',
  };

  it('round-trips a document; empty fields inherit (are left out)', () => {
    expect(fromForm(toForm(doc))).toEqual({ document: doc, errors: {} });
    expect(toForm(doc).windowEnd).toBe('04:05');
    expect(fromForm(toForm(null))).toEqual({ document: {}, errors: {} });
    // an empty list is a choice, not inheritance
    expect(fromForm({ ...toForm(null), setRestrictions: true }).document).toEqual({ userRestrictions: [] });
  });

  it('says what to fix before the server is asked', () => {
    const bad = fromForm({
      ...toForm(doc),
      timeZone: 'Mars/Olympus',
      windowStart: '05:00',
      windowEnd: '04:00',
      screenTimeoutSec: '2',
      permissions: 'camera please',
    });
    expect(Object.keys(bad.errors).sort()).toEqual(['permissions', 'screenTimeoutSec', 'timeZone', 'window']);
    expect(bad.errors.window).toMatch(/end after it starts/);
    expect(bad.document.timeZone).toBeUndefined();
  });
});

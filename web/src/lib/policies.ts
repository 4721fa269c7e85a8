/**
 * The Policies page's form model: a policy document (docs/policies.md) as form fields and back, and
 * the checks the server makes that the operator should see before saving. An empty field inherits
 * from the layer below (the fleet default, or nothing).
 */
export const LOCK_TASK_FEATURES = ['SYSTEM_INFO', 'NOTIFICATIONS', 'HOME', 'OVERVIEW', 'GLOBAL_ACTIONS', 'KEYGUARD', 'BLOCK_ACTIVITY_START_IN_TASK'] as const;
export const USER_RESTRICTIONS = [
  'no_safe_boot',
  'no_factory_reset',
  'no_usb_file_transfer',
  'no_adjust_volume',
  'no_config_wifi',
  'no_install_unknown_sources',
  'no_add_user',
  'no_debugging_features',
  'no_config_bluetooth',
  'no_mount_physical_media',
  'no_config_date_time',
  'no_uninstall_apps',
  'no_modify_accounts',
  'no_config_location',
  'no_outgoing_calls',
  'no_sms',
] as const;

export interface PolicyDocument {
  kioskApp?: { releaseId: string };
  agentRelease?: { releaseId: string };
  heartbeatIntervalSec?: number;
  lockTaskFeatures?: string[];
  keyguardDisabled?: boolean;
  statusBarDisabled?: boolean;
  userRestrictions?: string[];
  kioskPermissions?: Record<string, 'grant' | 'deny'>;
  systemUpdate?: { type: 'automatic' | 'windowed' | 'postponed'; startMinute?: number; endMinute?: number };
  screenTimeoutSec?: number;
  timeZone?: string;
}

export type TriState = '' | 'on' | 'off';

export interface PolicyForm {
  kioskApp: string;
  agentRelease: string;
  heartbeatIntervalSec: string;
  setLockTask: boolean;
  lockTaskFeatures: string[];
  keyguardDisabled: TriState;
  statusBarDisabled: TriState;
  setRestrictions: boolean;
  userRestrictions: string[];
  /** One `android.permission.X=grant|deny` per line. */
  permissions: string;
  updateType: '' | 'automatic' | 'windowed' | 'postponed';
  /** HH:MM */
  windowStart: string;
  windowEnd: string;
  screenTimeoutSec: string;
  timeZone: string;
}

const hhmm = (m: number | undefined) =>
  m === undefined ? '' : `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const minutes = (t: string) => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(t.trim());
  return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? Number(m[1]) * 60 + Number(m[2]) : null;
};
const tri = (b: boolean | undefined): TriState => (b === undefined ? '' : b ? 'on' : 'off');

export function toForm(d: PolicyDocument | null): PolicyForm {
  const doc = d ?? {};
  return {
    kioskApp: doc.kioskApp?.releaseId ?? '',
    agentRelease: doc.agentRelease?.releaseId ?? '',
    heartbeatIntervalSec: doc.heartbeatIntervalSec === undefined ? '' : String(doc.heartbeatIntervalSec),
    setLockTask: doc.lockTaskFeatures !== undefined,
    lockTaskFeatures: [...(doc.lockTaskFeatures ?? [])],
    keyguardDisabled: tri(doc.keyguardDisabled),
    statusBarDisabled: tri(doc.statusBarDisabled),
    setRestrictions: doc.userRestrictions !== undefined,
    userRestrictions: [...(doc.userRestrictions ?? [])],
    permissions: Object.entries(doc.kioskPermissions ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    updateType: doc.systemUpdate?.type ?? '',
    windowStart: hhmm(doc.systemUpdate?.startMinute),
    windowEnd: hhmm(doc.systemUpdate?.endMinute),
    screenTimeoutSec: doc.screenTimeoutSec === undefined ? '' : String(doc.screenTimeoutSec),
    timeZone: doc.timeZone ?? '',
  };
}

export const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz);
  } catch {
    return false;
  }
};

/** The document the form describes, or the problems to fix first (by field). */
export function fromForm(f: PolicyForm): { document: PolicyDocument; errors: Record<string, string> } {
  const doc: PolicyDocument = {};
  const errors: Record<string, string> = {};
  const int = (key: 'heartbeatIntervalSec' | 'screenTimeoutSec', min: number, max: number) => {
    const text = f[key].trim();
    if (!text) return;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) errors[key] = `A whole number of seconds from ${min} to ${max}.`;
    else doc[key] = n;
  };
  if (f.kioskApp) doc.kioskApp = { releaseId: f.kioskApp };
  if (f.agentRelease) doc.agentRelease = { releaseId: f.agentRelease };
  int('heartbeatIntervalSec', 30, 86_400);
  if (f.setLockTask) doc.lockTaskFeatures = LOCK_TASK_FEATURES.filter((x) => f.lockTaskFeatures.includes(x));
  if (f.keyguardDisabled) doc.keyguardDisabled = f.keyguardDisabled === 'on';
  if (f.statusBarDisabled) doc.statusBarDisabled = f.statusBarDisabled === 'on';
  if (f.setRestrictions) doc.userRestrictions = USER_RESTRICTIONS.filter((x) => f.userRestrictions.includes(x));
  const perms: Record<string, 'grant' | 'deny'> = {};
  for (const line of f.permissions.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)\s*=\s*(grant|deny)$/.exec(line);
    if (!m) errors.permissions = `"${line}": write one permission per line as android.permission.CAMERA=grant (or deny).`;
    else perms[m[1]!] = m[2] as 'grant' | 'deny';
  }
  if (Object.keys(perms).length) doc.kioskPermissions = perms;
  if (f.updateType === 'windowed') {
    const start = minutes(f.windowStart);
    const end = minutes(f.windowEnd);
    if (start === null || end === null) errors.window = 'Give the window as two times, HH:MM.';
    else if (end <= start) errors.window = 'The window must end after it starts (same day).';
    else doc.systemUpdate = { type: 'windowed', startMinute: start, endMinute: end };
  } else if (f.updateType) doc.systemUpdate = { type: f.updateType };
  int('screenTimeoutSec', 5, 86_400);
  if (f.timeZone.trim()) {
    if (!isTimeZone(f.timeZone.trim())) errors.timeZone = 'An IANA time zone such as Europe/Berlin or UTC.';
    else doc.timeZone = f.timeZone.trim();
  }
  return { document: doc, errors };
}

/** A diff entry's value, short enough for a table cell. */
export const show = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

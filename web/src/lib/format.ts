/** "just now", "42 s ago", "2 min ago", "3 h ago", "5 d ago" - short enough for a table cell. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  return agoMs(now - Date.parse(iso));
}

/** An age in milliseconds the same way: 40916 -> "41 s ago". */
export function agoMs(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  if (sec < 5) return 'just now';
  if (sec < 60) return `${sec} s ago`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** Until a future time: "in 23 h", "in 5 min", or "expired". */
export function until(iso: string, now: number): string {
  const sec = Math.round((Date.parse(iso) - now) / 1000);
  if (sec <= 0) return 'expired';
  if (sec < 60) return `in ${sec} s`;
  if (sec < 3600) return `in ${Math.floor(sec / 60)} min`;
  if (sec < 172_800) return `in ${Math.floor(sec / 3600)} h`;
  return `in ${Math.floor(sec / 86_400)} d`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function duration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return '-';
  const d = Math.floor(sec / 86_400);
  const h = Math.floor((sec % 86_400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}

/** One formatter: toLocaleString with options builds a new one per call, which shows when a table scrolls. */
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const dateTime = (iso: string | null | undefined) => (iso ? DATE_TIME.format(new Date(iso)) : '-');

export const ALERT_LABELS: Record<string, string> = {
  offline: 'Offline',
  low_battery: 'Low battery',
  app_down: 'App down',
  app_frozen: 'App frozen',
};

export const alertLabel = (kind: string) => ALERT_LABELS[kind] ?? kind;

export const ACTION_LABELS: Record<string, string> = {
  created_admin: 'Created user',
  updated_admin: 'Changed user',
  deleted_admin: 'Deleted user',
  logged_in: 'Signed in',
  logged_out: 'Signed out',
  created_enrollment_token: 'Created enrollment token',
  revoked_enrollment_token: 'Revoked enrollment token',
  enrolled_device: 'Enrolled device',
  sent_command: 'Sent command',
  updated_device: 'Changed device',
  updated_alert_settings: 'Changed alert settings',
  sent_test_notification: 'Sent test notification',
  acknowledged_alert: 'Acknowledged alert',
  escalated_alert: 'Escalated alert',
  registered_apk_release: 'Registered agent release',
};

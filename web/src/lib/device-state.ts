import type { DeviceDoc } from './types.js';

/**
 * How the fleet view shows a device's state, trouble first. An offline device's battery and app
 * state are what it last reported, so they are shown greyed as "last known", never as a green
 * "Running"; an app whose down or frozen alert is still open shows "Recovering", not "Running".
 */
export type Severity = 0 | 1 | 2 | 3 | 4;

/** 0 alerting, 1 offline, 2 app down or frozen, 3 the rest, 4 retiring or retired: the fleet view's default order. */
export function severity(d: DeviceDoc): Severity {
  if (d.status === 'retiring' || d.status === 'retired') return 4;
  if (d.openAlerts.length > 0) return 0;
  if (d.status === 'offline') return 1;
  if (d.app === 'down' || d.app === 'frozen') return 2;
  return 3;
}

export interface AppView {
  label: string;
  tone: string;
  /** True when the value is what an offline device last reported. */
  lastKnown: boolean;
}

const LABEL: Record<DeviceDoc['app'], string> = { running: 'Running', down: 'Down', frozen: 'Frozen', unknown: 'No report' };
const TONE: Record<DeviceDoc['app'], string> = {
  running: 'preset-tonal-success',
  down: 'preset-filled-error-800-200',
  frozen: 'preset-filled-warning-500',
  unknown: 'preset-tonal-surface',
};

export function appView(app: DeviceDoc['app'], status: DeviceDoc['status'], openAlerts: readonly string[] = []): AppView {
  if (status !== 'online')
    return { label: app === 'unknown' ? 'No report' : `Last: ${LABEL[app]}`, tone: 'preset-tonal-surface', lastKnown: true };
  const appAlert = openAlerts.includes('app_down') || openAlerts.includes('app_frozen');
  if (app === 'running' && appAlert) return { label: 'Recovering', tone: 'preset-tonal-warning', lastKnown: false };
  return { label: LABEL[app], tone: TONE[app], lastKnown: false };
}

/** The battery the way the fleet list shows it everywhere: the live documents carry it in 5% steps, rounded down. */
export const batteryStep = (level: number | null | undefined): number | null =>
  level === null || level === undefined ? null : Math.floor(level / 5) * 5;

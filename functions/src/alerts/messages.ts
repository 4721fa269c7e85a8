import type { MessageItem, OutgoingMessage, Severity } from '../ports/notifier.js';
import type { AlertKind } from './alert-kinds.js';

/** One notice, with what a message needs to say about its alert and device. */
export interface NoticeFacts {
  noticeId: number;
  type: 'opened' | 'resolved' | 'escalated';
  alertId: string;
  kind: AlertKind;
  deviceId: string;
  deviceName: string;
  groupName: string | null;
  conditionSince: Date;
  resolvedAt: Date | null;
  details: Record<string, unknown>;
  /** Self-healing steps taken, in order (for resolutions and escalations). */
  steps: string[];
}

const KIND_TEXT: Record<AlertKind, string> = {
  offline: 'offline',
  low_battery: 'battery low',
  app_down: 'kiosk app down',
  app_frozen: 'kiosk app frozen',
};
const SEVERITY: Record<AlertKind, Severity> = { offline: 'critical', app_down: 'critical', app_frozen: 'critical', low_battery: 'warning' };
const DIGEST_LINES = 25;

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
function duration(from: Date, to: Date): string {
  const min = Math.max(0, Math.round((to.getTime() - from.getTime()) / 60_000));
  return min < 120 ? `${min} min` : `${Math.round(min / 60)} h`;
}

function detail(f: NoticeFacts): string | null {
  if (f.kind === 'low_battery' && typeof f.details.batteryLevel === 'number') return `battery ${f.details.batteryLevel}%`;
  if (f.kind === 'app_frozen' && typeof f.details.lastFrameAgeMs === 'number')
    return `last frame ${Math.round(f.details.lastFrameAgeMs / 1000)} s ago`;
  if (f.kind === 'app_down' && typeof f.details.package === 'string') return `${f.details.package} not in front`;
  return null;
}

function item(f: NoticeFacts, baseUrl: string): MessageItem {
  const fields = [
    { name: 'Device', value: f.deviceName },
    { name: 'Group', value: f.groupName ?? '-' },
    { name: 'Kind', value: KIND_TEXT[f.kind] },
    { name: 'Since', value: utc(f.conditionSince) },
  ];
  const more = detail(f);
  if (more) fields.push({ name: 'Detail', value: more });
  if (f.steps.length) fields.push({ name: 'Self-healing', value: f.steps.join(', ') });
  return { title: f.deviceName, fields, url: `${baseUrl}/devices/${f.deviceId}` };
}

function line(f: NoticeFacts, now: Date): string {
  const where = f.groupName ? ` in ${f.groupName}` : '';
  const more = detail(f);
  if (f.type === 'resolved') {
    const fixed = f.steps.length ? `, fixed after ${f.steps.at(-1)}` : '';
    return `${f.deviceName}${where}: ${KIND_TEXT[f.kind]} is over after ${duration(f.conditionSince, f.resolvedAt ?? now)}${fixed}`;
  }
  if (f.type === 'escalated') {
    const tried = f.steps.length ? `self-healing tried ${f.steps.join(', ')}` : 'self-healing is paused for this device';
    return `${f.deviceName}${where}: ${KIND_TEXT[f.kind]} since ${utc(f.conditionSince)}; ${tried} - it needs a person`;
  }
  return `${f.deviceName}${where}: ${KIND_TEXT[f.kind]} since ${utc(f.conditionSince)} (${duration(f.conditionSince, now)})${more ? `, ${more}` : ''}`;
}

/** A message for one notice, or a digest for several (same kind and group, or whatever the rate limit folded). */
export function compose(
  facts: NoticeFacts[],
  baseUrl: string,
  now: Date,
): { type: 'alert' | 'resolution' | 'digest' | 'escalation'; message: OutgoingMessage } {
  const first = facts[0]!;
  const items = facts.map((f) => item(f, baseUrl));
  if (facts.length === 1) {
    const type = first.type === 'opened' ? 'alert' : first.type === 'resolved' ? 'resolution' : 'escalation';
    const prefix = first.type === 'opened' ? '' : first.type === 'resolved' ? 'Resolved: ' : 'Needs a person: ';
    return {
      type,
      message: {
        title: `${prefix}${first.deviceName} - ${KIND_TEXT[first.kind]}`,
        text: line(first, now),
        severity: first.type === 'resolved' ? 'resolved' : SEVERITY[first.kind],
        url: `${baseUrl}/alerts/${first.alertId}`,
        items,
        at: now.toISOString(),
      },
    };
  }
  const sameKind = facts.every((f) => f.kind === first.kind && f.type === first.type);
  const sameGroup = facts.every((f) => f.groupName === first.groupName);
  const verb = first.type === 'resolved' ? 'recovered' : first.type === 'escalated' ? 'need a person' : KIND_TEXT[first.kind];
  const title = sameKind
    ? `${facts.length} devices ${first.type === 'opened' ? '' : `${KIND_TEXT[first.kind]}: `}${verb}${sameGroup && first.groupName ? ` in ${first.groupName}` : ''}`
    : `${facts.length} alert updates`;
  const lines = facts.slice(0, DIGEST_LINES).map((f) => `- ${line(f, now)}`);
  if (facts.length > DIGEST_LINES) lines.push(`- and ${facts.length - DIGEST_LINES} more`);
  return {
    type: 'digest',
    message: {
      title,
      text: lines.join('\n'),
      severity: facts.every((f) => f.type === 'resolved')
        ? 'resolved'
        : facts.some((f) => SEVERITY[f.kind] === 'critical')
          ? 'critical'
          : 'warning',
      url: `${baseUrl}/alerts`,
      items,
      at: now.toISOString(),
    },
  };
}

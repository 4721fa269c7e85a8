import { ApiError, post } from './api.js';
import type { CommandType, Role } from './types.js';

export const COMMAND_INFO: Record<CommandType, { label: string; help: string; destructive: boolean; role: Role }> = {
  PING: { label: 'Ping', help: 'Ask for a heartbeat now.', destructive: false, role: 'operator' },
  RELAUNCH_APP: { label: 'Relaunch app', help: 'Bring the kiosk app back to the front.', destructive: false, role: 'operator' },
  LOCK: { label: 'Lock screen', help: 'Lock the screen.', destructive: false, role: 'operator' },
  REBOOT: { label: 'Reboot', help: 'Restart the device; it is offline for a minute or two.', destructive: true, role: 'operator' },
  CLEAR_APP_DATA: { label: 'Clear app data', help: "Erase the kiosk app's data and settings.", destructive: true, role: 'operator' },
  INSTALL_APK: {
    label: 'Install APK',
    help: 'Install a release from the app catalog; the device checks its hash and signer first.',
    destructive: false,
    role: 'operator',
  },
  SET_CONFIG: { label: 'Change agent settings', help: 'Heartbeat interval or kiosk package.', destructive: false, role: 'operator' },
  WIPE: { label: 'Factory reset', help: 'Erase the device completely. It must be enrolled again.', destructive: true, role: 'admin' },
  RELEASE_OWNER: {
    label: 'Release Device Owner',
    help: 'The agent gives up Device Owner and stops reporting; the device keeps its data and becomes an ordinary phone. No command reaches it afterwards.',
    destructive: true,
    role: 'admin',
  },
};

/** The commands the server cannot take back: a second admin approves them beyond one device, one device needs the type typed. */
export const IRREVERSIBLE: ReadonlySet<CommandType> = new Set(['WIPE', 'RELEASE_OWNER']);

/** Most device ids one request may name (POST /api/v1/admin/commands). */
export const MAX_IDS_PER_REQUEST = 1000;

export interface SentCommands {
  count: number;
  batchIds: string[];
  commands: { id: string; deviceId: string; type: CommandType; status: string }[];
  /** WIPE requests for more than one device, waiting for a second admin. */
  approvals: { id: string; count: number; expiresAt: string }[];
}

/** Whether the server wants `confirm: {type, count}` for this send: beyond one device, PING aside. */
export const needsConfirmation = (type: CommandType, deviceIds: readonly string[]) => type !== 'PING' && new Set(deviceIds).size > 1;

/**
 * The id list in requests of at most 1,000 ids, never one of a single id when there are more (a
 * one-device request needs no confirmation, so a preview of it would send it).
 */
export function chunks(deviceIds: readonly string[]): string[][] {
  const ids = [...new Set(deviceIds)];
  const n = Math.ceil(ids.length / MAX_IDS_PER_REQUEST) || 1;
  const size = Math.ceil(ids.length / n);
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/**
 * Asks the server how many devices a send reaches, without sending: each request goes without
 * `confirm` and the server answers 428 with the count it computed (nothing is written). Returns the
 * count per request, in order.
 */
export async function previewCommand(type: CommandType, params: Record<string, unknown>, deviceIds: readonly string[]): Promise<number[]> {
  const counts: number[] = [];
  for (const ids of chunks(deviceIds)) {
    try {
      await post('/admin/commands', { type, params, deviceIds: ids });
      throw new Error('the server sent a command that should have needed a confirmation');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'confirmation_required' && err.confirm)) throw err;
      counts.push(err.confirm.count);
    }
  }
  return counts;
}

/**
 * Sends one command to many devices, 1,000 ids per request, each with the count confirmed for it
 * (`counts` from previewCommand; none for a send that needs no confirmation). A selection that changed
 * since is a 428 with the new count (ApiError.confirm), for the dialog to show and ask again.
 */
export async function sendCommand(
  type: CommandType,
  params: Record<string, unknown>,
  deviceIds: readonly string[],
  counts?: readonly number[],
): Promise<SentCommands> {
  const out: SentCommands = { count: 0, batchIds: [], commands: [], approvals: [] };
  const parts = chunks(deviceIds);
  for (const [i, ids] of parts.entries()) {
    const confirm = counts?.[i] === undefined ? {} : { confirm: { type, count: counts[i] } };
    const res = await post<
      | { batchId: string; count: number; commands: SentCommands['commands'] }
      | { approval: { id: string; count: number; expiresAt: string } }
    >('/admin/commands', { type, params, deviceIds: ids, ...confirm });
    if ('approval' in res) {
      out.approvals.push(res.approval);
      continue;
    }
    out.count += res.count;
    out.batchIds.push(res.batchId);
    out.commands.push(...res.commands);
  }
  return out;
}

/** Cancels a command the device has not started; true when it was cancelled now. */
export async function cancelCommand(id: string): Promise<boolean> {
  return (await post<{ cancelled: number }>(`/admin/commands/${id}/cancel`)).cancelled > 0;
}

/** Params from the form fields of INSTALL_APK and SET_CONFIG; an error message when they do not make sense. */
export interface CommandFields {
  /** The catalog release INSTALL_APK installs (the server fills in its URL, hashes and package). */
  releaseId: string;
  allowDowngrade: boolean;
  interval: string;
  kioskPackage: string;
}

export function commandParams(type: CommandType, f: CommandFields): Record<string, unknown> | string {
  if (type === 'INSTALL_APK') {
    if (!f.releaseId) return 'Pick a release from the catalog (Releases page: upload the APK first)';
    return f.allowDowngrade ? { releaseId: f.releaseId, allowDowngrade: true } : { releaseId: f.releaseId };
  }
  if (type === 'SET_CONFIG') {
    const p: Record<string, unknown> = {};
    if (f.interval.trim()) {
      const n = Number(f.interval);
      if (!Number.isInteger(n) || n < 5 || n > 86_400) return 'The heartbeat interval must be 5 to 86,400 seconds';
      p.heartbeatIntervalSec = n;
    }
    if (f.kioskPackage.trim()) p.kioskPackage = f.kioskPackage.trim();
    if (Object.keys(p).length === 0) return 'Name a heartbeat interval or a kiosk package';
    return p;
  }
  return {};
}

import { post } from './api.js';
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
};

/** Most device ids one request may name (POST /api/v1/admin/commands). */
export const MAX_IDS_PER_REQUEST = 1000;

export interface SentCommands {
  count: number;
  batchIds: string[];
  commands: { id: string; deviceId: string; type: CommandType; status: string }[];
}

/** Sends one command to many devices, 1,000 ids per request. */
export async function sendCommand(type: CommandType, params: Record<string, unknown>, deviceIds: readonly string[]): Promise<SentCommands> {
  const out: SentCommands = { count: 0, batchIds: [], commands: [] };
  for (let i = 0; i < deviceIds.length; i += MAX_IDS_PER_REQUEST) {
    const res = await post<{ batchId: string; count: number; commands: SentCommands['commands'] }>('/admin/commands', {
      type,
      params,
      deviceIds: deviceIds.slice(i, i + MAX_IDS_PER_REQUEST),
    });
    out.count += res.count;
    out.batchIds.push(res.batchId);
    out.commands.push(...res.commands);
  }
  return out;
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

import { readFile, rename, writeFile } from 'node:fs/promises';
import { isRecord } from './http-client.js';
import type { DeviceIdentity, DeviceProfile, Hardware } from './identity.js';

/** What --state keeps per device: enough to run it again without enrolling it again. */
export interface StoredDevice {
  deviceId: string;
  deviceSecret: string;
  hmacKey: string;
  profile: DeviceProfile;
}

interface StateFile {
  version: 1;
  url: string;
  savedAt: string;
  devices: StoredDevice[];
}

/** The devices in `path`, or none when it does not exist yet. */
export async function loadState(path: string): Promise<{ url: string | undefined; devices: StoredDevice[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isRecord(err) && err.code === 'ENOENT') return { url: undefined, devices: [] };
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (!isRecord(parsed) || parsed.version !== 1 || !Array.isArray(parsed.devices)) {
    throw new Error(`${path} is not a simulator state file (version 1)`);
  }
  const devices = (parsed.devices as unknown[]).map((d, i) => {
    const device = asStoredDevice(d);
    if (!device) throw new Error(`${path}: device ${i} is malformed`);
    return device;
  });
  return { url: typeof parsed.url === 'string' ? parsed.url : undefined, devices };
}

/** Written to a temporary file and renamed, so an interrupted save never leaves half a file. */
export async function saveState(path: string, url: string, devices: StoredDevice[]): Promise<void> {
  const state: StateFile = { version: 1, url, savedAt: new Date().toISOString(), devices };
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 1) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const NETWORKS: readonly unknown[] = ['wifi', 'ethernet', 'cellular'] satisfies Hardware['network'][];
const isNetwork = (v: unknown): v is Hardware['network'] => NETWORKS.includes(v);

function asStoredDevice(d: unknown): StoredDevice | null {
  if (!isRecord(d) || !isString(d.deviceId) || !isString(d.deviceSecret) || !isString(d.hmacKey)) return null;
  if (!isRecord(d.profile)) return null;
  const identity = asIdentity(d.profile.identity);
  const hardware = asHardware(d.profile.hardware);
  if (!identity || !hardware) return null;
  return { deviceId: d.deviceId, deviceSecret: d.deviceSecret, hmacKey: d.hmacKey, profile: { identity, hardware } };
}

function asIdentity(id: unknown): DeviceIdentity | null {
  if (!isRecord(id)) return null;
  const { model, manufacturer, androidVersion, sdkInt, serial, agentVersion } = id;
  if (!isString(model) || !isString(manufacturer) || !isString(androidVersion) || !isCount(sdkInt)) return null;
  if (!isString(serial) || !isString(agentVersion)) return null;
  return { model, manufacturer, androidVersion, sdkInt, serial, agentVersion };
}

function asHardware(hw: unknown): Hardware | null {
  if (!isRecord(hw)) return null;
  const { memTotalBytes, storageTotalBytes, network, ip } = hw;
  if (!isCount(memTotalBytes) || !isCount(storageTotalBytes) || !isNetwork(network) || !isString(ip)) return null;
  return { memTotalBytes, storageTotalBytes, network, ip };
}

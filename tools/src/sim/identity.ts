import type { Random } from './random.js';

export const AGENT_VERSION = '1.0.0';
/** The agent's package and its versionCode at start (heartbeat `agentVersionCode`, protocol v2); INSTALL_APK of the package changes it. */
export const AGENT_PACKAGE = 'dev.fleetmdm.agent';
export const AGENT_VERSION_CODE = 1;

/** What the agent reports about itself at enrollment (docs/protocol.md, "Enrollment"). */
export interface DeviceIdentity {
  model: string;
  manufacturer: string;
  androidVersion: string;
  sdkInt: number;
  serial: string;
  agentVersion: string;
}

/** Fixed facts the heartbeats report; kept in --state so a re-run reports the same hardware. */
export interface Hardware {
  memTotalBytes: number;
  storageTotalBytes: number;
  network: 'wifi' | 'ethernet' | 'cellular';
  ip: string;
}

export interface DeviceProfile {
  identity: DeviceIdentity;
  hardware: Hardware;
}

interface ModelSpec {
  manufacturer: string;
  model: string;
  serialPrefix: string;
  sdks: readonly number[];
  memGiB: readonly number[];
  storageGB: readonly number[];
  networks: readonly Hardware['network'][];
}

/** A few models that really run kiosk and signage apps, with plausible Android versions. */
const MODELS: readonly ModelSpec[] = [
  {
    manufacturer: 'samsung',
    model: 'SM-X200',
    serialPrefix: 'R9KT',
    sdks: [33, 34],
    memGiB: [3, 4],
    storageGB: [32, 64],
    networks: ['wifi'],
  },
  {
    manufacturer: 'LENOVO',
    model: 'TB-X306F',
    serialPrefix: 'HA1',
    sdks: [30, 31],
    memGiB: [2, 4],
    storageGB: [32, 64],
    networks: ['wifi'],
  },
  {
    manufacturer: 'Elo',
    model: 'I-Series 4',
    serialPrefix: 'E4',
    sdks: [30, 33],
    memGiB: [4],
    storageGB: [32],
    networks: ['ethernet', 'wifi'],
  },
  {
    manufacturer: 'Zebra Technologies',
    model: 'ET40',
    serialPrefix: 'S2',
    sdks: [33, 34],
    memGiB: [4, 8],
    storageGB: [64],
    networks: ['wifi', 'cellular'],
  },
  { manufacturer: 'SUNMI', model: 'K2', serialPrefix: 'K2', sdks: [26, 28], memGiB: [2], storageGB: [16], networks: ['ethernet'] },
  {
    manufacturer: 'Philips',
    model: '10BDL4551T',
    serialPrefix: 'PH',
    sdks: [26, 27],
    memGiB: [2],
    storageGB: [16],
    networks: ['ethernet', 'wifi'],
  },
  { manufacturer: 'Google', model: 'Pixel Tablet', serialPrefix: '3A', sdks: [34, 35], memGiB: [8], storageGB: [128], networks: ['wifi'] },
];

const ANDROID_VERSIONS: Readonly<Record<number, string>> = {
  26: '8.0.0',
  27: '8.1.0',
  28: '9',
  29: '10',
  30: '11',
  31: '12',
  32: '12L',
  33: '13',
  34: '14',
  35: '15',
};

const SERIAL_ALPHABET = '0123456789ABCDEFGHJKLMNPRSTVWXYZ';

/**
 * A plausible device for fleet position `index`. The serial embeds the index, so serials are unique
 * within a run whatever the seed; the rest comes from the device's own generator.
 */
export function createProfile(rng: Random, index: number): DeviceProfile {
  const spec = rng.pick(MODELS);
  const sdkInt = rng.pick(spec.sdks);
  const network = rng.pick(spec.networks);
  return {
    identity: {
      model: spec.model,
      manufacturer: spec.manufacturer,
      androidVersion: ANDROID_VERSIONS[sdkInt] ?? String(sdkInt),
      sdkInt,
      serial: spec.serialPrefix + index.toString(36).toUpperCase().padStart(5, '0') + rng.chars(4, SERIAL_ALPHABET),
      agentVersion: AGENT_VERSION,
    },
    hardware: {
      memTotalBytes: rng.pick(spec.memGiB) * 2 ** 30,
      storageTotalBytes: rng.pick(spec.storageGB) * 1e9,
      network,
      ip: lanAddress(index),
    },
  };
}

/** A distinct private address per device (.2-.251: no network, gateway or broadcast address). */
function lanAddress(index: number): string {
  const host = 2 + (index % 250);
  const subnet = Math.floor(index / 250);
  return `10.${Math.floor(subnet / 256) % 256}.${subnet % 256}.${host}`;
}

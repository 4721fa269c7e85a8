import type { CommandResult } from './protocol.js';
import type { VirtualDevice } from './virtual-device.js';

/** What a command may ask of the fleet around the device (its schedule and its life). */
export interface DeviceControl {
  /** Send a heartbeat right away. */
  beatNow(): void;
  setIntervalSec(sec: number): void;
  /** Stop the device for good: after WIPE (wiped) or RELEASE_OWNER (released: no longer managed). */
  retire(why: 'wiped' | 'released'): void;
}

export interface CommandContext {
  device: VirtualDevice;
  control: DeviceControl;
  params: Record<string, unknown>;
  nowMs: number;
}

type Executor = (ctx: CommandContext) => CommandResult;

const PACKAGE_NAME = /^[a-zA-Z][\w]*(\.[a-zA-Z][\w]*)+$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
/** How many heartbeats a LOCK keeps the kiosk app out of the foreground. */
const LOCK_BEATS = 2;

const ok = (output?: string): CommandResult => (output === undefined ? { status: 'succeeded' } : { status: 'succeeded', output });
const failed = (error: string): CommandResult => ({ status: 'failed', error });

/** The virtual device's side of each command type in the protocol. */
const EXECUTORS: Readonly<Record<string, Executor>> = {
  REBOOT: ({ device, nowMs }) => {
    device.reboot(nowMs, 'command');
    return ok();
  },
  RELAUNCH_APP: ({ device }) => {
    device.lockedBeats = 0;
    device.relaunchApp();
    return ok();
  },
  PING: ({ control }) => {
    control.beatNow();
    return ok('pong');
  },
  LOCK: ({ device }) => {
    device.lock(LOCK_BEATS);
    return ok();
  },
  CLEAR_APP_DATA: ({ device }) => {
    // The app's files go (some storage comes back) and it starts fresh.
    const hw = device.profile.hardware;
    device.storageFreeBytes = Math.min(hw.storageTotalBytes, device.storageFreeBytes + Math.round(hw.storageTotalBytes * 0.01));
    device.relaunchApp();
    return ok();
  },
  INSTALL_APK: ({ device, params }) => {
    const url = params.url;
    const sha256 = params.sha256;
    const versionCode = params.versionCode;
    if (typeof url !== 'string' || !isHttpUrl(url)) return failed('params.url must be an http(s) URL');
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) return failed('params.sha256 must be 64 hex digits');
    if (!isInt(versionCode, 1, 2_100_000_000)) return failed('params.versionCode must be a positive integer');
    // As the agent does: it checks the signer's digest and the package before it installs anything.
    if (typeof params.signerSha256 !== 'string' || !SHA256_HEX.test(params.signerSha256)) {
      return failed('params.signerSha256 must be 64 hex digits');
    }
    // the kiosk app, or the agent itself (whose heartbeat then reports the new agentVersionCode)
    const isApp = params.packageName === device.app.package;
    const isAgent = params.packageName === device.agent.package;
    if (!isApp && !isAgent) return failed(`the APK is package ${String(params.packageName)}, not ${device.app.package}`);
    // As Android's package manager does (INSTALL_FAILED_VERSION_DOWNGRADE), unless explicitly allowed.
    const installed = isApp ? device.app.versionCode : device.agent.versionCode;
    if (versionCode < installed && params.allowDowngrade !== true) {
      return failed(`version downgrade: ${installed} -> ${versionCode}`);
    }
    if (isAgent) device.agent.versionCode = versionCode;
    if (!isApp) return ok(`installed ${device.agent.package} (${versionCode})`);
    device.app.versionCode = versionCode;
    device.app.versionName = typeof params.versionName === 'string' ? params.versionName : versionNameOf(versionCode);
    device.relaunchApp();
    return ok(`installed ${device.app.package} ${device.app.versionName} (${versionCode})`);
  },
  SET_CONFIG: ({ device, control, params }) => {
    const interval = params.heartbeatIntervalSec;
    const kiosk = params.kioskPackage;
    if (interval === undefined && kiosk === undefined) return failed('nothing to set');
    if (interval !== undefined && !isInt(interval, 1, 86_400)) return failed('heartbeatIntervalSec must be 1-86400');
    if (kiosk !== undefined && (typeof kiosk !== 'string' || !PACKAGE_NAME.test(kiosk))) {
      return failed('kioskPackage must be an Android package name');
    }
    if (interval !== undefined) control.setIntervalSec(interval);
    if (typeof kiosk === 'string' && kiosk !== device.app.package) {
      device.app.package = kiosk;
      device.relaunchApp();
    }
    return ok();
  },
  WIPE: ({ device, control }) => {
    device.wipe();
    control.retire('wiped');
    return ok();
  },
  // The agent gives up Device Owner (the device keeps its data) and forgets its enrollment: no more heartbeats.
  RELEASE_OWNER: ({ device, control }) => {
    device.ownerReleased = true;
    control.retire('released');
    return ok('Device Owner released; the agent stops reporting');
  },
};

/** Runs a verified command; null when the type is unknown to this agent. */
export function execute(type: string, ctx: CommandContext): CommandResult | null {
  const executor = Object.hasOwn(EXECUTORS, type) ? EXECUTORS[type] : undefined;
  return executor ? executor(ctx) : null;
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** 231 -> "2.3.1", the convention the default app follows (2.3.0 is 230). */
function versionNameOf(code: number): string {
  return `${Math.floor(code / 100)}.${Math.floor(code / 10) % 10}.${code % 10}`;
}

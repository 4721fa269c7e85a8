import { AGENT_PACKAGE, AGENT_VERSION_CODE, type DeviceProfile } from './identity.js';
import { MAX_EVENTS_PER_HEARTBEAT, type DeviceEvent, type HeartbeatBody } from './protocol.js';
import type { Random } from './random.js';

/**
 * Chance per heartbeat interval at chaos level 1 (the default: a realistic fleet where faults are
 * rare). Per interval rather than per second so the dashboard sees the same fault mix whatever
 * `--interval-sec` is. Chaos level L multiplies them; 0 gives a perfectly steady fleet.
 */
export const FAULT_CHANCE = { crash: 0.003, freeze: 0.003, offline: 0.002, reboot: 0.0005 } as const;
const MAX_FAULT_CHANCE = 0.5;

export const DEFAULT_APP = { package: 'com.example.kiosk', versionName: '2.3.0', versionCode: 230 };

/**
 * Fixed behaviours for a showcase (`npm run demo`): each shows the operator one state within a minute.
 * offline: beats once, then never again; low-battery: 11 % and not charging; app-down: the kiosk app
 * crash-loops (relaunches and reboots do not help); frozen: the app runs but draws no frame;
 * heals: the app dies at start and stays down until a RELAUNCH_APP (self-healing) brings it back.
 */
export const SHOWCASE_ROLES = ['offline', 'low-battery', 'app-down', 'frozen', 'heals'] as const;
export type ShowcaseRole = (typeof SHOWCASE_ROLES)[number];

export interface DeviceOptions {
  chaos: number;
  appPackage: string;
  /** Plugged in for good (signage boxes, kiosks in enclosures): full and charging, no cycles. */
  mainsPowered?: boolean | undefined;
  /** The kiosk app's versionCode at start (default DEFAULT_APP's). */
  appVersionCode?: number | undefined;
  /** The agent's own versionCode at start (default AGENT_VERSION_CODE). */
  agentVersionCode?: number | undefined;
  /**
   * The crash model: while this device runs the kiosk app at `versionCode`, the app crashes on every
   * start - not running, an `app.crash` event each heartbeat - until another version is installed.
   */
  crashesOn?: number | undefined;
  /** A showcase behaviour instead of random faults (SHOWCASE_ROLES). */
  role?: ShowcaseRole | undefined;
}

/**
 * One simulated kiosk: battery, memory, storage, network, the kiosk app and its faults. Pure state:
 * `advance` moves it along by wall-clock time, `heartbeat` reads it out; the fleet decides when.
 */
export class VirtualDevice {
  battery: number;
  charging = false;
  temperatureC: number;
  memAvailBytes: number;
  storageFreeBytes: number;
  rssi: number | undefined;
  uptimeSec: number;
  readonly app: { package: string; running: boolean; foreground: boolean; versionName: string; versionCode: number };
  /** The agent itself: its heartbeat reports the versionCode; an INSTALL_APK of its package updates it. */
  readonly agent: { package: string; versionCode: number };
  lastFrameAgeMs = 16;
  /** Remaining heartbeats of the current fault (0: none). */
  crashedBeats = 0;
  frozenBeats = 0;
  offlineBeats = 0;
  lockedBeats = 0;
  wiped = false;
  /** RELEASE_OWNER: the agent is no longer Device Owner (the device kept its data). */
  ownerReleased = false;
  readonly events: DeviceEvent[] = [];
  #advances = 0;
  #frozenSinceMs: number | undefined;
  /** The `heals` role: down until relaunched once. */
  #awaitingRelaunch = false;
  readonly #drainPerSec: number;
  readonly #chargePerSec: number;
  #chargeBelow: number;
  #chargeUntil: number;

  constructor(
    readonly profile: DeviceProfile,
    private readonly rng: Random,
    private options: DeviceOptions,
  ) {
    const hw = profile.hardware;
    this.battery = rng.range(35, 100);
    this.#drainPerSec = rng.range(0.1, 0.4) / 60;
    this.#chargePerSec = rng.range(0.8, 1.6) / 60;
    this.#chargeBelow = rng.range(15, 30);
    this.#chargeUntil = rng.range(92, 100);
    this.temperatureC = rng.range(27, 32);
    this.memAvailBytes = Math.round(hw.memTotalBytes * rng.range(0.3, 0.7));
    this.storageFreeBytes = Math.round(hw.storageTotalBytes * rng.range(0.3, 0.8));
    this.rssi = hw.network === 'ethernet' ? undefined : hw.network === 'wifi' ? rng.int(-75, -40) : rng.int(-105, -75);
    this.uptimeSec = rng.int(600, 30 * 86_400);
    this.app = { ...DEFAULT_APP, package: options.appPackage, running: true, foreground: true };
    if (options.appVersionCode !== undefined) {
      this.app.versionCode = options.appVersionCode;
      this.app.versionName = `${options.appVersionCode}`;
    }
    // the agent's versionCode; when the simulated kiosk app is the agent's own package, they are one app
    this.agent = {
      package: AGENT_PACKAGE,
      versionCode: options.agentVersionCode ?? (options.appPackage === AGENT_PACKAGE ? this.app.versionCode : AGENT_VERSION_CODE),
    };
    if (options.mainsPowered) {
      this.battery = 100;
      this.charging = true;
    }
    if (options.role === 'app-down') this.options = { ...options, crashesOn: this.app.versionCode };
    if (options.role === 'heals') {
      this.#awaitingRelaunch = true;
      this.app.running = this.app.foreground = false;
    }
  }

  /** Moves the device `dtSec` of wall time forward and maybe starts a fault (one check per beat). */
  advance(dtSec: number, nowMs: number): void {
    if (this.wiped) return;
    this.uptimeSec += Math.max(0, Math.round(dtSec));
    this.#advanceBattery(dtSec);
    this.#advanceResources(dtSec);
    if (this.crashLooping) {
      // the watchdog relaunches it every time and it dies again
      this.app.running = this.app.foreground = false;
      this.#event(nowMs, 'app.crash', { package: this.app.package, versionCode: this.app.versionCode, code: 6 });
      return;
    }
    this.#advanceApp(dtSec);
    if (this.options.role) this.#playRole(nowMs);
    else this.#maybeStartFault(nowMs);
    this.#advances++;
  }

  /** Holds the showcase role's state after the simulation moved on (see SHOWCASE_ROLES). */
  #playRole(nowMs: number): void {
    switch (this.options.role) {
      case 'offline':
        // the first beat goes out (the device is known and online), then silence
        if (this.#advances >= 1) this.offlineBeats = Number.MAX_SAFE_INTEGER;
        break;
      case 'low-battery':
        this.battery = 11;
        this.charging = false;
        break;
      case 'frozen':
        this.#frozenSinceMs ??= nowMs - 45_000;
        this.app.running = true;
        this.lastFrameAgeMs = nowMs - this.#frozenSinceMs;
        break;
      case 'heals':
        if (this.#awaitingRelaunch) {
          this.app.running = this.app.foreground = false;
          if (this.#advances === 0) this.#event(nowMs, 'app.crash', { package: this.app.package, code: 6 });
        }
        break;
      default:
        break; // app-down: the crash model does it
    }
  }

  /** The crash model holds: this device runs the version that crashes on it. */
  get crashLooping(): boolean {
    return this.options.crashesOn !== undefined && this.app.versionCode === this.options.crashesOn;
  }

  /** True when this beat falls in a simulated outage (and uses up one beat of it). */
  takeOfflineBeat(): boolean {
    if (this.offlineBeats <= 0) return false;
    this.offlineBeats--;
    return true;
  }

  heartbeat(nowMs: number): HeartbeatBody {
    const hw = this.profile.hardware;
    const network: HeartbeatBody['network'] = { type: hw.network, ip: hw.ip };
    if (this.rssi !== undefined) network.rssi = this.rssi;
    const body: HeartbeatBody = {
      sentAt: new Date(nowMs).toISOString(),
      battery: { level: Math.round(this.battery), charging: this.charging, temperatureC: Math.round(this.temperatureC * 10) / 10 },
      memory: { availBytes: this.memAvailBytes, totalBytes: hw.memTotalBytes },
      storage: { freeBytes: this.storageFreeBytes, totalBytes: hw.storageTotalBytes },
      network,
      app: { ...this.app },
      uptimeSec: this.uptimeSec,
      agentVersion: this.profile.identity.agentVersion,
      agentVersionCode: this.agent.versionCode,
    };
    if (this.app.running) body.app.lastFrameAgeMs = Math.round(this.lastFrameAgeMs);
    if (this.events.length > 0) body.events = this.events.slice(0, MAX_EVENTS_PER_HEARTBEAT);
    return body;
  }

  /** The server stored the first `count` events: drop them (unsent ones wait for the next beat). */
  acknowledgeEvents(count: number): void {
    this.events.splice(0, count);
  }

  // --- effects of faults and commands ---------------------------------------------------------

  reboot(nowMs: number, reason: string): void {
    this.uptimeSec = 0;
    this.crashedBeats = this.frozenBeats = this.lockedBeats = 0;
    this.offlineBeats = Math.max(this.offlineBeats, 1); // silent while it boots
    this.relaunchApp();
    this.#event(nowMs, 'device.boot', { reason });
  }

  relaunchApp(): void {
    this.#awaitingRelaunch = false;
    this.crashedBeats = this.frozenBeats = 0;
    this.app.running = !this.crashLooping;
    this.app.foreground = this.app.running && this.lockedBeats === 0;
    if (this.options.role !== 'frozen') this.lastFrameAgeMs = 16; // the showcase's frozen app stays frozen
  }

  lock(beats: number): void {
    this.lockedBeats = beats;
    this.app.foreground = false;
  }

  wipe(): void {
    this.wiped = true;
    this.app.running = this.app.foreground = false;
  }

  // --- the simulation ---------------------------------------------------------------------------

  #advanceBattery(dtSec: number): void {
    if (this.options.mainsPowered) {
      this.battery = 100;
      this.charging = true;
    } else if (this.charging) {
      this.battery = Math.min(100, this.battery + this.#chargePerSec * dtSec);
      if (this.battery >= this.#chargeUntil) {
        this.charging = false;
        this.#chargeUntil = this.rng.range(92, 100);
      }
    } else {
      const load = this.app.running && this.app.foreground ? 1 : 0.5;
      this.battery = Math.max(0, this.battery - this.#drainPerSec * load * dtSec);
      if (this.battery <= this.#chargeBelow) {
        this.charging = true;
        this.#chargeBelow = this.rng.range(15, 30);
      }
    }
    // Charging warms the battery by a few degrees; it eases towards its target rather than jumping.
    const target = 29 + (this.charging ? 6 : 0) + this.rng.range(-1, 1);
    this.temperatureC += (target - this.temperatureC) * Math.min(1, dtSec / 600);
  }

  #advanceResources(dtSec: number): void {
    const hw = this.profile.hardware;
    const step = hw.memTotalBytes * this.rng.range(-0.03, 0.03);
    this.memAvailBytes = Math.round(clamp(this.memAvailBytes + step, hw.memTotalBytes * 0.05, hw.memTotalBytes * 0.9));
    // Logs and caches grow about 100-200 MB a day; a cleanup frees space when it runs low.
    this.storageFreeBytes -= Math.round(dtSec * this.rng.range(1_000, 2_500));
    if (this.storageFreeBytes < hw.storageTotalBytes * 0.05) this.storageFreeBytes += Math.round(hw.storageTotalBytes * 0.2);
    this.storageFreeBytes = Math.round(clamp(this.storageFreeBytes, 0, hw.storageTotalBytes));
    if (this.rssi !== undefined) {
      const [low, high] = hw.network === 'wifi' ? [-90, -35] : [-115, -65];
      this.rssi = Math.round(clamp(this.rssi + this.rng.int(-3, 3), low, high));
    }
  }

  #advanceApp(dtSec: number): void {
    if (this.lockedBeats > 0 && --this.lockedBeats === 0) this.app.foreground = this.app.running;
    if (this.crashedBeats > 0) {
      if (--this.crashedBeats === 0) this.relaunchApp(); // the agent's watchdog restarted it
    } else if (this.frozenBeats > 0) {
      if (--this.frozenBeats === 0) this.lastFrameAgeMs = 16;
      else this.lastFrameAgeMs += dtSec * 1000;
    } else if (this.app.running) {
      this.lastFrameAgeMs = this.rng.int(8, 40);
    }
  }

  #maybeStartFault(nowMs: number): void {
    const level = this.options.chaos;
    if (level <= 0 || this.crashedBeats > 0 || this.frozenBeats > 0) return;
    const p = (base: number) => Math.min(MAX_FAULT_CHANCE, base * level);
    if (this.rng.chance(p(FAULT_CHANCE.crash))) {
      this.crashedBeats = this.rng.int(1, 3);
      this.app.running = this.app.foreground = false;
      this.#event(nowMs, 'app.crash', { package: this.app.package, code: this.rng.pick([6, 7, 11]) });
    } else if (this.rng.chance(p(FAULT_CHANCE.freeze))) {
      this.frozenBeats = this.rng.int(2, 6);
      this.lastFrameAgeMs = this.rng.int(5_000, 15_000); // noticed by the watchdog after a few seconds
    } else if (this.offlineBeats === 0 && this.rng.chance(p(FAULT_CHANCE.offline))) {
      this.offlineBeats = this.rng.int(1, 6);
    } else if (this.rng.chance(p(FAULT_CHANCE.reboot))) {
      this.reboot(nowMs, 'watchdog');
    }
  }

  #event(nowMs: number, type: string, data: DeviceEvent['data']): void {
    // A device offline for long keeps only the newest events (the protocol takes 50 per beat).
    if (this.events.length >= MAX_EVENTS_PER_HEARTBEAT) this.events.shift();
    this.events.push({ type, at: new Date(nowMs).toISOString(), ...(data ? { data } : {}) });
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

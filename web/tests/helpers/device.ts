/**
 * A virtual kiosk speaking device protocol v1 (docs/protocol.md) to the server under test: enroll
 * with a token, open a session, send heartbeats, report command results. Small on purpose; the fleet
 * simulator in tools/src/sim is the full one.
 */
export interface Envelope {
  cid: string;
  did: string;
  type: string;
  params: string;
  sig: string;
}

export class VirtualDevice {
  deviceId = '';
  #secret = '';
  #access = '';
  battery = 80;
  appRunning = true;
  lastFrameAgeMs = 16;
  /** The kiosk app this device reports (its package and versionCode). */
  appPackage = 'com.example.kiosk';
  appVersionCode = 230;
  /** The agent's own versionCode (protocol v2; what a rollout of the agent package counts); undefined: not sent. */
  agentVersionCode: number | undefined;
  /** The `cancelled` ids of the last heartbeat answer. */
  cancelled: string[] = [];
  /** The `policy` of the last heartbeat answer (protocol v2). */
  policy: { version: number; hash: string } | null = null;
  constructor(
    readonly base: string,
    readonly serial: string,
    readonly model = 'KioskPro 10',
  ) {}

  async #post<T>(path: string, body: unknown, token?: string): Promise<{ status: number; body: T }> {
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async enroll(enrollmentToken: string): Promise<this> {
    const res = await this.#post<{ deviceId: string; deviceSecret: string }>('/api/v1/enroll', {
      enrollmentToken,
      device: { model: this.model, manufacturer: 'Acme', androidVersion: '14', sdkInt: 34, serial: this.serial, agentVersion: '1.0.0' },
    });
    if (res.status !== 201) throw new Error(`enroll: ${res.status} ${JSON.stringify(res.body)}`);
    this.deviceId = res.body.deviceId;
    this.#secret = res.body.deviceSecret;
    return this;
  }

  async session(): Promise<void> {
    const res = await this.#post<{ accessToken: string }>('/api/v1/device/session', {
      deviceId: this.deviceId,
      deviceSecret: this.#secret,
    });
    if (res.status !== 200) throw new Error(`session: ${res.status}`);
    this.#access = res.body.accessToken;
  }

  /** One heartbeat; returns the command envelopes the server handed back. */
  async heartbeat(): Promise<Envelope[]> {
    if (!this.#access) await this.session();
    const res = await this.#post<{ commands: Envelope[]; cancelled?: string[]; policy?: { version: number; hash: string } | null }>(
      '/api/v1/heartbeat',
      {
        sentAt: new Date().toISOString(),
        battery: { level: this.battery, charging: false, temperatureC: 30 },
        memory: { availBytes: 1_500_000_000, totalBytes: 4_000_000_000 },
        storage: { freeBytes: 20_000_000_000, totalBytes: 64_000_000_000 },
        network: { type: 'wifi', rssi: -50, ip: '10.0.0.9' },
        app: {
          package: this.appPackage,
          running: this.appRunning,
          foreground: this.appRunning,
          versionName: this.appVersionCode === 230 ? '2.3.0' : String(this.appVersionCode),
          versionCode: this.appVersionCode,
          lastFrameAgeMs: this.lastFrameAgeMs,
        },
        uptimeSec: 3600,
        agentVersion: '1.0.0',
        ...(this.agentVersionCode === undefined ? {} : { agentVersionCode: this.agentVersionCode }),
      },
      this.#access,
    );
    if (res.status !== 200) throw new Error(`heartbeat: ${res.status} ${JSON.stringify(res.body)}`);
    this.cancelled = res.body.cancelled ?? [];
    this.policy = res.body.policy ?? null;
    return res.body.commands;
  }

  /** GET /api/v1/device/policy: the signed envelope of the effective policy (protocol v2). */
  async fetchPolicy(): Promise<{ hash: string | null; envelope: Envelope | null }> {
    const res = await fetch(`${this.base}/api/v1/device/policy`, { headers: { authorization: `Bearer ${this.#access}` } });
    if (res.status !== 200) throw new Error(`policy: ${res.status}`);
    return (await res.json()) as { hash: string | null; envelope: Envelope | null };
  }

  /** Reports every item of the document as applied, except the ones given. */
  async reportPolicy(hash: string, document: Record<string, unknown>, failed: Record<string, string> = {}): Promise<string> {
    const items = Object.keys(document).map((item) =>
      failed[item] ? { item, status: 'failed', reason: failed[item] } : { item, status: 'applied' },
    );
    const res = await this.#post<{ state: string }>('/api/v1/device/policy/report', { hash, items }, this.#access);
    if (res.status !== 200) throw new Error(`policy report: ${res.status}`);
    return res.body.state;
  }

  async report(cid: string, status: 'delivered' | 'succeeded' | 'failed', output?: string): Promise<void> {
    const res = await this.#post(`/api/v1/commands/${cid}/result`, { status, ...(output ? { output } : {}) }, this.#access);
    if (res.status !== 200) throw new Error(`result: ${res.status}`);
  }
}

/** Signs in over the API and creates an enrollment token (what the simulator does with --password). */
export async function adminToken(base: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return ((await res.json()) as { token: string }).token;
}

export async function enrollmentToken(base: string, admin: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${base}/api/v1/admin/enrollment-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ label: 'e2e', ...body }),
  });
  return ((await res.json()) as { token: string }).token;
}

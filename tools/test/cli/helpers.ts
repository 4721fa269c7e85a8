import { join } from 'node:path';
import { expect } from 'vitest';
import { main, type Io } from '../../src/cli/mdm.js';

/** One CLI invocation in-process, with its store in `dir`: what it printed and its exit code. */
export async function runMdm(dir: string, args: string[], io: Partial<Io> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { MDM_CONFIG: join(dir, 'cli.json') },
    ...io,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export async function post(url: string, body: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as any;
}

/** A device that enrolls with a token and reports the way the agent does. */
export class FakeDevice {
  private constructor(
    private readonly server: string,
    readonly id: string,
    private readonly accessToken: string,
  ) {}

  static async enroll(server: string, enrollmentToken: string, serial: string): Promise<FakeDevice> {
    const device = { model: 'Tab A8', manufacturer: 'Samsung', androidVersion: '14', sdkInt: 34, serial, agentVersion: '1.0.0' };
    const enrolled = await post(`${server}/api/v1/enroll`, { enrollmentToken, device });
    const session = await post(`${server}/api/v1/device/session`, { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret });
    return new FakeDevice(server, enrolled.deviceId, session.accessToken);
  }

  /** Reports its state; returns the ids of the commands the server handed over (of one type, if given). */
  async heartbeat(battery = 64, type?: string): Promise<string[]> {
    const res = await post(
      `${this.server}/api/v1/heartbeat`,
      {
        sentAt: new Date().toISOString(),
        battery: { level: battery, charging: false },
        memory: { availBytes: 1e9, totalBytes: 3e9 },
        app: { package: 'com.example.kiosk', running: true, foreground: true },
        uptimeSec: 100,
        agentVersion: '1.0.0',
      },
      this.accessToken,
    );
    return (res.commands as { cid: string; type: string }[]).filter((c) => !type || c.type === type).map((c) => c.cid);
  }

  async result(commandId: string, status: 'succeeded' | 'failed' | 'rejected', extra: { output?: string; error?: string } = {}) {
    await post(`${this.server}/api/v1/commands/${commandId}/result`, { status, ...extra }, this.accessToken);
  }
}

/** Polls until `check` passes (the server's sweep runs every few seconds). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 250));
  }
}

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newHmacKey } from './envelopes.js';

/**
 * A scriptable stand-in for the server's device routes, to drive the simulator into situations the
 * real server cannot produce yet (commands in heartbeat answers) or only rarely (expired tokens,
 * removed devices). Each test scripts it through the `on*` hooks.
 */
export interface FakeDevice {
  id: string;
  secret: string;
  hmacKey: string;
  serial: string;
  removed: boolean;
  tokens: Set<string>;
  heartbeats: Record<string, unknown>[];
}

export type Reply = { status: number; body: unknown };

export class FakeServer {
  readonly devices = new Map<string, FakeDevice>();
  readonly results: { cid: string; deviceId: string; body: unknown }[] = [];
  sessions = 0;
  sessionTtlMs = 3600_000;
  /** Return a reply to override the normal answer (a 200 with no commands). */
  onHeartbeat: (d: FakeDevice, body: Record<string, unknown>) => Reply | undefined = () => undefined;
  onResult: (cid: string) => Reply = () => ({ status: 204, body: undefined });
  #server: Server | undefined;

  async start(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  byIndex(i: number): FakeDevice {
    const d = [...this.devices.values()][i];
    if (!d) throw new Error(`no device ${i}`);
    return d;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    if (req.headers['content-type'] !== 'application/json') return send(res, { status: 415, body: error('unsupported') });
    const body = JSON.parse(text) as Record<string, unknown>;
    const url = req.url ?? '';
    if (url === '/api/v1/enroll') return send(res, this.#enroll(body));
    if (url === '/api/v1/device/session') return send(res, this.#session(body));
    const device = this.#authenticate(req.headers.authorization);
    if (!device) return send(res, { status: 401, body: error('invalid_token') });
    if (url === '/api/v1/heartbeat') {
      if (device.removed) return send(res, { status: 401, body: error('unknown_device') });
      device.heartbeats.push(body);
      const reply = this.onHeartbeat(device, body) ?? {
        status: 200,
        body: { serverTime: new Date().toISOString(), nextHeartbeatSec: 300, commands: [] },
      };
      return send(res, reply);
    }
    const result = /^\/api\/v1\/commands\/([^/]+)\/result$/.exec(url);
    if (result) {
      const cid = decodeURIComponent(result[1]!);
      this.results.push({ cid, deviceId: device.id, body });
      return send(res, this.onResult(cid));
    }
    send(res, { status: 404, body: error('not_found') });
  }

  #enroll(body: Record<string, unknown>): Reply {
    const device = body.device as Record<string, unknown>;
    const d: FakeDevice = {
      id: randomUUID(),
      secret: randomBytes(32).toString('base64url'),
      hmacKey: newHmacKey(),
      serial: String(device.serial),
      removed: false,
      tokens: new Set(),
      heartbeats: [],
    };
    this.devices.set(d.id, d);
    return { status: 201, body: { deviceId: d.id, deviceSecret: d.secret, hmacKey: d.hmacKey, heartbeatIntervalSec: 300 } };
  }

  #session(body: Record<string, unknown>): Reply {
    const d = this.devices.get(String(body.deviceId));
    if (!d || d.removed || d.secret !== body.deviceSecret) return { status: 401, body: error('invalid_credentials') };
    this.sessions++;
    const token = randomBytes(16).toString('hex');
    d.tokens.add(token);
    return { status: 200, body: { accessToken: token, expiresAt: new Date(Date.now() + this.sessionTtlMs).toISOString() } };
  }

  #authenticate(header: string | undefined): FakeDevice | undefined {
    const token = header?.replace(/^Bearer /, '') ?? '';
    for (const d of this.devices.values()) if (d.tokens.has(token)) return d;
    return undefined;
  }
}

const error = (code: string) => ({ error: { code, message: code } });

function send(res: ServerResponse, reply: Reply): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status).end();
    return;
  }
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(reply.body));
}

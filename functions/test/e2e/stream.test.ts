import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';
import { sampleDevice, sampleHeartbeat } from '../helpers/app.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

describe('the standalone live stream (Server-Sent Events)', () => {
  let server: ServerProcess;
  let databaseUrl: string;
  beforeAll(async () => {
    databaseUrl = await clonePostgresDatabase();
    server = await startServer({
      DATABASE_URL: databaseUrl,
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'stream test password',
      ADMIN_BCRYPT_ROUNDS: '4',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await dropPostgresDatabase(databaseUrl);
  });

  const post = async (path: string, body: unknown, token?: string) =>
    (await fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }).then((r) => r.json())) as Record<string, string>;

  it('delivers a device change to a connected console within a second, and refuses anonymous callers', async () => {
    expect((await fetch(`${server.url}/api/v1/admin/stream`)).status).toBe(401);
    const login = await fetch(`${server.url}/api/v1/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ops@example.com', password: 'stream test password' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const admin = ((await login.json()) as { token: string }).token;
    const enrollmentToken = (await post('/api/v1/admin/enrollment-tokens', {}, admin)).token!;
    const device = await post('/api/v1/enroll', { enrollmentToken, device: sampleDevice() });
    const access = (await post('/api/v1/device/session', { deviceId: device.deviceId, deviceSecret: device.deviceSecret })).accessToken!;

    // the console's EventSource sends the session cookie
    const stream = await fetch(`${server.url}/api/v1/admin/stream`, { headers: { cookie } });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let buffered = '';
    const nextEvent = async (name: string, deadlineMs: number): Promise<any> => {
      // eslint-disable-line @typescript-eslint/no-explicit-any
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const match = new RegExp(`event: ${name}\\ndata: (.*)\\n\\n`).exec(buffered);
        if (match) {
          buffered = buffered.slice(match.index + match[0].length);
          return JSON.parse(match[1]!);
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${name} event within ${deadlineMs} ms`);
        const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), left))]);
        if (chunk === null || chunk.done) continue;
        buffered += new TextDecoder().decode(chunk.value);
      }
    };

    const sent = Date.now();
    await post('/api/v1/heartbeat', sampleHeartbeat(new Date(), { battery: { level: 33, charging: false } }), access);
    const doc = await nextEvent('device', 1000);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(doc).toMatchObject({ id: device.deviceId, battery: 30, status: 'online', app: 'running' });
    await reader.cancel();
  });
});

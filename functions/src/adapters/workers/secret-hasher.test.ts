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
});

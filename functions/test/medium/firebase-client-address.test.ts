import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firebaseFunctionsEnv } from '../helpers/firebase.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';

type Fn = (req: unknown, res: unknown) => unknown;

/**
 * The client address on Firebase, through the HTTPS function's handler called the way the functions
 * framework calls it. Behind Hosting the function sees `X-Forwarded-For: <client's own>, <client>,
 * <Google front end>` (docs/operations.md): the default of two trusted hops picks the client, and
 * the entries the client wrote itself never become its address. Express's `req.ip` (the left-most
 * entry under `trust proxy`) is set to the forged value here, as the framework would.
 */
describe('client address on the Firebase functions', () => {
  let fns: Record<string, Fn>;
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await clonePostgresDatabase();
    Object.assign(process.env, firebaseFunctionsEnv(databaseUrl, { DB_CONNECTION_LIMIT: '100' }));
    delete process.env.TRUST_PROXY_HOPS;
    fns = (await import('../../src/index.js')) as unknown as typeof fns;
    const { getRuntime } = await import('../../src/firebase/runtime.js');
    const { app } = await getRuntime('api');
    await app.services.admins.ensureFirstAdmin({ email: 'ops@example.com', password: 'firebase test password', allowGenerated: false });
  });
  afterAll(async () => {
    const { getRuntime } = await import('../../src/firebase/runtime.js');
    const { app, database } = await getRuntime('api');
    await app.close();
    await database.close();
    await dropPostgresDatabase(databaseUrl);
  });

  async function login(password: string, xff: string): Promise<number> {
    const raw = Buffer.from(JSON.stringify({ email: 'ops@example.com', password }));
    const forgedLeftMost = xff.split(',')[0]!.trim();
    const req = {
      method: 'POST',
      url: '/api/v1/admin/login',
      originalUrl: '/api/v1/admin/login',
      ip: forgedLeftMost,
      socket: { remoteAddress: '169.254.1.1' },
      headers: { 'content-type': 'application/json', 'x-forwarded-for': xff },
      rawBody: raw,
      body: {},
      get: () => undefined,
      header: () => undefined,
    };
    let status = 0;
    await new Promise<void>((resolve) => {
      const res = {
        status: (s: number) => ((status = s), res),
        setHeader: () => res,
        getHeader: () => undefined,
        set: () => res,
        send: () => resolve(),
        end: () => resolve(),
        on: () => res,
        headersSent: false,
      };
      void fns.api!(req, res);
    });
    return status;
  }

  it('limits 40 wrong logins on one account from one client whose left-most entry changes every time', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push(await login(`wrong ${i}`, `10.77.${i}.1, 198.51.100.44, 35.191.3.4`));
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(35).fill(429));
    const { getRuntime } = await import('../../src/firebase/runtime.js');
    const { database } = await getRuntime('api');
    const audited = await database.db.selectFrom('audit_log').select('ip').where('action', '=', 'locked_out_login').execute();
    expect(audited.map((a) => a.ip)).toEqual(['198.51.100.44']);
    const buckets = await database.db.selectFrom('rate_limits').select('bucket').execute();
    expect(buckets.some((b) => b.bucket.includes('10.77.'))).toBe(false);
  });

  it('never takes a value that is not an address, however long', async () => {
    expect(await login('wrong', `${'y'.repeat(8192)}, 35.191.3.4`)).toBe(401);
    const { getRuntime } = await import('../../src/firebase/runtime.js');
    const { database } = await getRuntime('api');
    const buckets = await database.db.selectFrom('rate_limits').select('bucket').execute();
    for (const { bucket } of buckets) expect(bucket).not.toContain('yyyy');
  });
});

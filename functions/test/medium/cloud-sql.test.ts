import { Socket } from 'node:net';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openDatabase, type CloudSqlConnector } from '../../src/adapters/postgres/connect.js';
import { clonePostgresDatabase, dropPostgresDatabase } from '../helpers/db.js';

/**
 * The Cloud SQL path: the pool takes its sockets from the connector's stream factory. Google's API is
 * out of reach here, so the connector is one that dials the local PostgreSQL - everything after the
 * socket (pool, driver, Kysely, our queries) is the real thing.
 */
describe('Cloud SQL through the connector', () => {
  it('connects through the stream the connector hands out, with IAM or password auth', async () => {
    const url = new URL(await clonePostgresDatabase());
    const calls: unknown[] = [];
    let closed = 0;
    const connector: CloudSqlConnector = {
      async getOptions(opts) {
        calls.push(opts);
        // like the connector's socket, it decides where it goes, whatever pg asks for
        return {
          stream: () => {
            const socket = new Socket();
            const dial = socket.connect.bind(socket);
            return Object.assign(socket, { connect: () => dial(Number(url.port), url.hostname) });
          },
        };
      },
      close: () => void closed++,
    };
    try {
      for (const iamAuth of [true, false]) {
        const handle = await openDatabase(
          {
            kind: 'cloudsql',
            instanceConnectionName: 'demo-mdm:europe-west1:fleet',
            user: 'postgres',
            password: iamAuth ? undefined : 'not-checked-by-trust-auth',
            database: url.pathname.slice(1),
            ipType: 'PRIVATE',
            iamAuth,
            poolMax: 2,
          },
          () => {},
          connector,
        );
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from admins`.execute(handle.db);
        expect(rows[0]!.n).toBe(0);
        await handle.close();
      }
      expect(calls).toEqual([
        { instanceConnectionName: 'demo-mdm:europe-west1:fleet', ipType: 'PRIVATE', authType: 'IAM' },
        { instanceConnectionName: 'demo-mdm:europe-west1:fleet', ipType: 'PRIVATE', authType: 'PASSWORD' },
      ]);
      expect(closed).toBe(2);
    } finally {
      await dropPostgresDatabase(url.toString());
    }
  });
});

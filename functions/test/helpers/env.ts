import 'vitest';

/** Values the global setup hands to every test file. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** A tar of a migrated PGlite data directory; each test file loads its own copy. */
    pgliteTemplate: string;
    /** Name of the migrated template database on the test PostgreSQL server. */
    pgTemplate: string;
    /** URL of the test PostgreSQL server's maintenance database. */
    pgAdminUrl: string;
  }
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_DB_PREFIX = 'fmdm_t_';

export function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';

describe('graceful shutdown', () => {
  it('finishes requests in flight on SIGTERM, then exits 0 and refuses new connections', async () => {
    // A slow bcrypt cost keeps logins in flight long enough to signal in the middle of them.
    const server = await startServer({
      ADMIN_EMAIL: 'ops@example.com',
      ADMIN_PASSWORD: 'a long enough password',
      ADMIN_BCRYPT_ROUNDS: '12',
      DATABASE_URL: '',
    });
    const login = () =>
      fetch(`${server.url}/api/v1/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ops@example.com', password: 'a long enough password' }),
      });
    const inFlight = Array.from({ length: 4 }, login);
    await new Promise((r) => setTimeout(r, 100));
    const exitCode = server.stop('SIGTERM');
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(await exitCode).toBe(0);
    expect(server.output()).toContain('"message":"stopped"');
    await expect(login()).rejects.toThrow();
  });
});

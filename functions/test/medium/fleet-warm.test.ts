import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/**
 * At a server's start (standalone/main.ts) the fleet view reads the status cards and the filter values
 * of a fleet big enough for the console's server mode, so the first console opened does not wait.
 */
describe('the console counts read at start', () => {
  let big: TestApp;
  let small: TestApp;

  beforeAll(async () => {
    // three devices each: above the threshold of one app, below the other's
    [big, small] = await Promise.all([
      createTestApp('postgres', { CONSOLE_SERVER_QUERY_ABOVE: '2' }),
      createTestApp('postgres', { CONSOLE_SERVER_QUERY_ABOVE: '3' }),
    ]);
    for (const t of [big, small]) for (let i = 0; i < 3; i++) await t.enrollDevice({ serial: `W-${i}` });
  });
  afterAll(async () => {
    await big.close();
    await small.close();
  });

  const get = async (t: TestApp, path: string) => (await t.request('GET', path, { token: await t.loginAs('viewer') })).json;

  it('reads the cards and the filter values ahead when the console will ask the server for them', async () => {
    expect(await big.app.services.fleetView.warm()).toBe(true);
    const warmedAt = big.clock.now().toISOString();
    big.clock.advance(1000);
    // answered from what was read at start, not counted now
    expect(await get(big, '/api/v1/admin/fleet/counts')).toMatchObject({ total: 3, online: 3, asOf: warmedAt });
    expect(await get(big, '/api/v1/admin/fleet/facets')).toMatchObject({ asOf: warmedAt });
  });

  it('reads neither for a fleet the console holds whole', async () => {
    expect(await small.app.services.fleetView.warm()).toBe(false);
    small.clock.advance(1000);
    expect(await get(small, '/api/v1/admin/fleet/counts')).toMatchObject({ total: 3, asOf: small.clock.now().toISOString() });
  });
});

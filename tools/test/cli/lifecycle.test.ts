import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startServer, type RunningServer } from '../sim/helpers/server.js';
import { FakeDevice, runMdm } from './helpers.js';

/** device retire|delete|replace and devices move|tag against the standalone server: confirmations, prefixes, blast radius. */
let server: RunningServer;
let dir: string;
let old: FakeDevice;
let nu: FakeDevice;
let third: FakeDevice;
let fourth: FakeDevice;
const mdm = (args: string[], io: Parameters<typeof runMdm>[2] = {}) => runMdm(dir, args, io);
const json = async (args: string[]) => {
  const res = await mdm([...args, '--json']);
  expect(res.code, res.err).toBe(0);
  return JSON.parse(res.out);
};
const prefix = (d: FakeDevice) => d.id.slice(0, 8);

beforeAll(async () => {
  server = await startServer();
  dir = await mkdtemp(join(tmpdir(), 'mdm-cli-lifecycle-'));
  expect((await mdm(['login', '--url', server.url, '--email', ADMIN.email, '--password', ADMIN.password])).code).toBe(0);
  const token = await json(['token', 'create', '--max-uses', '4']);
  old = await FakeDevice.enroll(server.url, token.token, 'LC-SAME');
  nu = await FakeDevice.enroll(server.url, token.token, 'LC-SAME');
  third = await FakeDevice.enroll(server.url, token.token, 'LC-3');
  fourth = await FakeDevice.enroll(server.url, token.token, 'LC-4');
  for (const d of [old, nu, third, fourth]) await d.heartbeat(70);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bulk moves and tag edits', () => {
  it('asks first, naming how many devices change; a script must say --yes', async () => {
    const script = await mdm(['devices', 'move', '--group', 'Hall', prefix(old), prefix(nu)]);
    expect(script).toMatchObject({ code: 1, err: 'mdm: move to group "Hall": 2 of 2 device(s) change. Apply: run it again with --yes' });
    const asked: string[] = [];
    const no = await mdm(['devices', 'move', '--group', 'Hall', prefix(old), prefix(nu)], { confirm: async (q) => (asked.push(q), false) });
    expect(no).toMatchObject({ code: 1, err: 'mdm: nothing changed' });
    expect(asked).toEqual(['move to group "Hall": 2 of 2 device(s) change. Apply?']);
    // the dry run that counted them created nothing, not even the group
    expect(await mdm(['devices', '--group', 'Hall'])).toMatchObject({ code: 1, err: 'mdm: no group named Hall' });
  });

  it('moves devices named by id prefix, name or serial, all or none', async () => {
    const moved = await mdm(['devices', 'move', '--group', 'Hall', prefix(old), '--device', 'LC-3', '--yes']);
    expect(moved).toMatchObject({ code: 0, out: 'move to group "Hall": 2 of 2 device(s) changed' });
    const inHall = (await json(['devices', '--group', 'Hall'])).map((d: { id: string }) => d.id);
    expect(inHall.sort()).toEqual([old.id, third.id].sort());
    const unknown = await mdm(['devices', 'move', '--group', 'Yard', prefix(old), 'no-such-kiosk', '--yes']);
    expect(unknown.code).toBe(1);
    expect((await json(['device', 'show', prefix(old)])).device.group.name).toBe('Hall');
    expect(await mdm(['devices', 'move', '--group', 'bad/name', prefix(old), '--yes'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('--group'),
    });
    expect((await mdm(['devices', 'move', prefix(old)])).code).toBe(2);
    expect((await mdm(['devices', 'move', '--group', 'Hall'])).code).toBe(2);
  });

  it('adds and removes tags', async () => {
    const tagged = await json(['devices', 'tag', '--add', 'lobby', '--add', 'east', prefix(old), prefix(nu), prefix(third), '--yes']);
    expect(tagged).toEqual({ matched: 3, changed: 3, dryRun: false });
    const again = await mdm(['devices', 'tag', '--add', 'lobby', '--remove', 'east', prefix(old), '--yes']);
    expect(again).toMatchObject({ code: 0, out: 'add lobby, remove east: 1 of 1 device(s) changed' });
    expect((await json(['device', 'show', prefix(old)])).device.tags).toEqual(['lobby']);
    expect((await mdm(['devices', 'tag', prefix(old)])).code).toBe(2);
  });
});

describe('retire, replace, delete', () => {
  it('refuses to replace a device that is online', async () => {
    const res = await mdm(['device', 'replace', prefix(old), prefix(nu), '--yes']);
    expect(res).toMatchObject({ code: 1, err: expect.stringContaining('the device is online') });
  });

  it('retires a device after asking; its credentials stop working at once', async () => {
    expect(await mdm(['device', 'retire', prefix(old)])).toMatchObject({
      code: 1,
      err: expect.stringContaining('run it again with --yes'),
    });
    const res = await mdm(['device', 'retire', prefix(old)], { confirm: async () => true });
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^retired Tab A8 LC-SAME \(.+\); 0 open command\(s\) dropped, 0 alert\(s\) resolved$/);
    await expect(old.heartbeat()).rejects.toThrow();
    expect((await json(['devices'])).map((d: { id: string }) => d.id)).not.toContain(old.id);
    expect((await json(['devices', '--status', 'retired'])).map((d: { id: string }) => d.id)).toEqual([old.id]);
  });

  it('lets the new enrollment of the same hardware take over the retired one', async () => {
    const res = await json(['device', 'replace', 'LC-SAME', prefix(nu), '--yes']);
    expect(res).toMatchObject({ oldDeviceId: old.id, newDeviceId: nu.id, group: 'Hall', tags: ['lobby'] });
    expect((await json(['device', 'show', prefix(nu)])).device).toMatchObject({ group: { name: 'Hall' }, duplicateSerialOf: [] });
  });

  it('sends a signed WIPE before retiring when asked', async () => {
    const res = await mdm(['device', 'retire', 'LC-3', '--wipe', '--yes']);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^Tab A8 LC-3 is retiring: WIPE [0-9a-f-]{36} is on its way/);
    expect(await third.heartbeat(70, 'WIPE')).toHaveLength(1);
  });

  it('sends a signed RELEASE_OWNER before retiring with --release-owner, never with --wipe too', async () => {
    expect(await mdm(['device', 'retire', 'LC-4', '--wipe', '--release-owner', '--yes'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--wipe or --release-owner, not both'),
    });
    const res = await mdm(['device', 'retire', 'LC-4', '--release-owner', '--yes']);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/^Tab A8 LC-4 is retiring: RELEASE_OWNER [0-9a-f-]{36} is on its way/);
    expect(await fourth.heartbeat(70, 'RELEASE_OWNER')).toHaveLength(1);
  });

  it('deletes only a retired device', async () => {
    expect(await mdm(['device', 'delete', prefix(nu), '--yes'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('retire it first'),
    });
    const res = await mdm(['device', 'delete', prefix(old), '--yes']);
    expect(res).toMatchObject({ code: 0, out: `deleted Tab A8 LC-SAME (${old.id}); the audit log keeps its entries` });
    expect((await mdm(['device', 'show', old.id])).code).toBe(1);
    expect((await mdm(['device', 'delete'])).code).toBe(2);
    expect((await mdm(['device', 'replace', prefix(nu)])).code).toBe(2);
  });
});

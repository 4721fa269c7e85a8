import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/db.js';
import { createTestApp, sampleHeartbeat, type EnrolledDevice, type TestApp } from '../helpers/app.js';

/**
 * Device lifecycle: retire (at once, or after a signed WIPE reached the device), delete after retire,
 * replace (a new enrollment takes over a retired or offline device's identity), duplicate serials,
 * bulk moves and tag edits. Every rule on PGlite and PostgreSQL; bad input changes nothing.
 */
describe.each(DB_KINDS)('device lifecycle on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let operator: string;
  let viewer: string;

  const signIn = async () => {
    [admin, operator, viewer] = [await t.loginAs('admin'), await t.loginAs('operator'), await t.loginAs('viewer')];
  };
  beforeAll(async () => {
    t = await createTestApp(kind);
    await signIn();
  });
  // tests move the clock past session lifetimes
  beforeEach(signIn);
  afterAll(() => t.close());

  const beat = async (d: EnrolledDevice, token?: string, overrides: Record<string, unknown> = {}) =>
    t.request('POST', '/api/v1/heartbeat', { token: token ?? (await t.deviceToken(d)), body: sampleHeartbeat(t.clock.now(), overrides) });
  const device = async (id: string) => (await t.request('GET', `/api/v1/admin/devices/${id}`, { token: admin })).json;
  const retire = (id: string, body: unknown, token = admin) => t.request('POST', `/api/v1/admin/devices/${id}/retire`, { token, body });
  const send = (body: Record<string, unknown>) => t.request('POST', '/api/v1/admin/commands', { token: admin, body });
  const audit = (deviceId: string) =>
    t.db.db.selectFrom('audit_log').select(['action', 'actor_type', 'details']).where('device_id', '=', deviceId).orderBy('id').execute();
  const openAlerts = (deviceId: string) =>
    t.db.db.selectFrom('alerts').select('kind').where('device_id', '=', deviceId).where('status', '=', 'open').execute();
  const goOffline = () => t.clock.advance(800_000);

  describe('retire at once', () => {
    let d: EnrolledDevice;
    let token: string;
    let pingId: string;

    beforeAll(async () => {
      d = await t.enrollDevice();
      token = await t.deviceToken(d);
      expect((await beat(d, token)).status).toBe(200);
      pingId = (await send({ type: 'PING', deviceIds: [d.deviceId] })).json.commands[0].id;
      goOffline();
      await t.app.tick();
      expect(await openAlerts(d.deviceId)).toEqual([{ kind: 'offline' }]);
      token = await t.deviceToken(d); // a fresh session that must stop working
    });

    it('is for admins only, and refuses bad input without changing anything', async () => {
      expect((await retire(d.deviceId, { wipe: false }, operator)).status).toBe(403);
      expect((await retire(d.deviceId, { wipe: false }, viewer)).status).toBe(403);
      expect((await retire(d.deviceId, {})).status).toBe(400);
      expect((await retire(d.deviceId, { wipe: 'yes' })).status).toBe(400);
      expect((await retire(d.deviceId, { wipe: false, extra: 1 })).status).toBe(400);
      expect((await retire('00000000-0000-4000-8000-000000000000', { wipe: false })).status).toBe(404);
      expect((await device(d.deviceId)).status).toBe('offline');
    });

    it('ends its open commands and alerts, and its credentials stop working at once', async () => {
      const res = await retire(d.deviceId, { wipe: false });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ lifecycle: 'retired', wipeCommandId: null, commandsCancelled: 1, alertsResolved: 1 });
      const hb = await beat(d, token);
      expect(hb.status).toBe(403);
      expect(hb.json.error.code).toBe('device_retired');
      const session = await t.request('POST', '/api/v1/device/session', { body: { deviceId: d.deviceId, deviceSecret: d.deviceSecret } });
      expect(session.status).toBe(403);
      expect(session.json.error.code).toBe('device_retired');
      const wrong = await t.request('POST', '/api/v1/device/session', { body: { deviceId: d.deviceId, deviceSecret: 'nope' } });
      expect(wrong.status).toBe(401);
      const result = await t.request('POST', `/api/v1/commands/${pingId}/result`, { token, body: { status: 'succeeded' } });
      expect(result.status).toBe(403);
      const ping = await t.request('GET', `/api/v1/admin/commands/${pingId}`, { token: admin });
      expect(ping.json).toMatchObject({ status: 'expired', error: 'device retired' });
    });

    it('keeps its history and audit trail, shows it as retired and keeps it out of counts, lists and sweeps', async () => {
      const view = await device(d.deviceId);
      expect(view).toMatchObject({ status: 'retired', duplicateSerialOf: [] });
      expect(view.retiredAt).not.toBeNull();
      const telemetry = await t.request('GET', `/api/v1/admin/devices/${d.deviceId}/telemetry?resolution=raw&from=2026-03-10T00:00:00Z`, {
        token: admin,
      });
      expect(telemetry.json.points.length).toBe(1);
      expect((await audit(d.deviceId)).map((a) => a.action)).toEqual(
        expect.arrayContaining(['enrolled_device', 'sent_command', 'retired_device']),
      );
      const ids = async (q: string) =>
        (await t.request('GET', `/api/v1/admin/devices${q}`, { token: admin })).json.items.map((i: { id: string }) => i.id);
      expect(await ids('')).not.toContain(d.deviceId);
      expect(await ids('?status=offline')).not.toContain(d.deviceId);
      expect(await ids('?status=retired')).toContain(d.deviceId);
      expect(await ids('?status=any')).toContain(d.deviceId);
      const fleet = await t.request('GET', '/api/v1/admin/fleet', { token: admin });
      expect(fleet.json.items.find((i: { id: string }) => i.id === d.deviceId).status).toBe('retired');
      goOffline();
      await t.app.tick();
      await t.app.tick();
      expect(await openAlerts(d.deviceId)).toEqual([]);
      expect((await send({ type: 'PING', deviceIds: [d.deviceId] })).status).toBe(404);
      expect((await t.request('PATCH', `/api/v1/admin/devices/${d.deviceId}`, { token: admin, body: { name: 'x' } })).status).toBe(409);
      const again = await retire(d.deviceId, { wipe: false });
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('device_retired');
    });

    it('is not counted online or offline in the metrics', async () => {
      const other = await t.enrollDevice();
      await beat(other);
      const { text } = await t.app.metrics.render();
      const total = await t.db.db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('lifecycle', '=', 'active')
        .executeTakeFirstOrThrow();
      const gauge = (status: string) => Number(new RegExp(`mdm_devices\\{status="${status}"\\} (\\d+)`).exec(text)?.[1]);
      expect(gauge('online') + gauge('offline')).toBe(Number(total.n));
    });
  });

  describe('retire after a signed WIPE', () => {
    it('keeps the credentials until the device took the WIPE, then retires it on the tick', async () => {
      const d = await t.enrollDevice();
      await beat(d);
      const ping = (await send({ type: 'PING', deviceIds: [d.deviceId] })).json.commands[0].id;
      const res = await retire(d.deviceId, { wipe: true });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ lifecycle: 'retiring', commandsCancelled: 1 });
      const wipeId = res.json.wipeCommandId as string;
      expect((await device(d.deviceId)).status).toBe('retiring');
      expect((await retire(d.deviceId, { wipe: true })).status).toBe(409);
      // the next heartbeat carries the WIPE, and only it
      const token = await t.deviceToken(d);
      const hb = await beat(d, token);
      expect(hb.status).toBe(200);
      expect(hb.json.commands.map((c: Record<string, string>) => [c.cid, c.type])).toEqual([[wipeId, 'WIPE']]);
      expect((await t.request('GET', `/api/v1/admin/commands/${ping}`, { token: admin })).json.status).toBe('expired');
      await t.app.tick();
      expect((await device(d.deviceId)).status).toBe('retiring'); // handed out, not yet acknowledged
      const delivered = await t.request('POST', `/api/v1/commands/${wipeId}/result`, { token, body: { status: 'delivered' } });
      expect(delivered.status).toBe(200);
      await t.app.tick();
      expect((await device(d.deviceId)).status).toBe('retired');
      expect((await beat(d, token)).status).toBe(403);
      const trail = await audit(d.deviceId);
      expect(
        trail.filter((a) => a.action === 'retired_device').map((a) => [a.actor_type, (a.details as { lifecycle: string }).lifecycle]),
      ).toEqual([
        ['admin', 'retiring'],
        ['system', 'retired'],
      ]);
    });

    it('retires a device that never came back once its WIPE expired', async () => {
      const d = await t.enrollDevice();
      const res = await retire(d.deviceId, { wipe: true });
      expect(res.json.lifecycle).toBe('retiring');
      await t.app.tick();
      expect((await device(d.deviceId)).status).toBe('retiring');
      t.clock.advance(86_400_000 + 60_000);
      await t.app.tick();
      await signIn();
      expect((await device(d.deviceId)).status).toBe('retired');
    });

    it('retires a retiring device at once when asked without a wipe', async () => {
      const d = await t.enrollDevice();
      expect((await retire(d.deviceId, { wipe: true })).json.lifecycle).toBe('retiring');
      const now = await retire(d.deviceId, { wipe: false });
      expect(now.status).toBe(200);
      expect(now.json).toMatchObject({ lifecycle: 'retired', commandsCancelled: 1 });
    });
  });

  describe('retire after a signed RELEASE_OWNER', () => {
    it('refuses wipe and releaseOwner together without changing anything', async () => {
      const d = await t.enrollDevice();
      const both = await retire(d.deviceId, { wipe: true, releaseOwner: true });
      expect([both.status, both.json.error.code]).toEqual([400, 'retire_one_command']);
      expect((await retire(d.deviceId, { releaseOwner: 'yes' })).status).toBe(400);
      expect((await device(d.deviceId)).status).not.toMatch(/retir/);
      const open = await t.db.db.selectFrom('commands').select('id').where('device_id', '=', d.deviceId).execute();
      expect(open).toEqual([]);
    });

    it('keeps the credentials until the device took it, then retires it on the tick, audited as a release', async () => {
      const d = await t.enrollDevice();
      await beat(d);
      const res = await retire(d.deviceId, { releaseOwner: true });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ lifecycle: 'retiring', wipeCommandId: null });
      const releaseId = res.json.releaseOwnerCommandId as string;
      expect((await retire(d.deviceId, { releaseOwner: true })).json.error.code).toBe('device_retiring');
      const token = await t.deviceToken(d);
      const hb = await beat(d, token);
      expect(hb.json.commands.map((c: Record<string, string>) => [c.cid, c.type])).toEqual([[releaseId, 'RELEASE_OWNER']]);
      await t.app.tick();
      expect((await device(d.deviceId)).status).toBe('retiring');
      const done = await t.request('POST', `/api/v1/commands/${releaseId}/result`, { token, body: { status: 'succeeded' } });
      expect(done.status).toBe(200);
      await t.app.tick();
      expect((await device(d.deviceId)).status).toBe('retired');
      const trail = (await audit(d.deviceId)).filter((a) => a.action === 'retired_device');
      expect(trail.map((a) => [a.actor_type, a.details])).toEqual([
        ['admin', expect.objectContaining({ lifecycle: 'retiring', wipe: false, releaseOwner: true, releaseOwnerCommandId: releaseId })],
        ['system', expect.objectContaining({ lifecycle: 'retired', wipe: false, releaseOwner: true })],
      ]);
    });
  });

  describe('the audit log names devices and admins as they are now', () => {
    type Entry = { action: string; deviceId: string; deviceName: string; actor: { type: string; email: string | null } };
    const entries = async (deviceId: string) =>
      (await t.request('GET', `/api/v1/admin/audit?deviceId=${deviceId}`, { token: admin })).json.items as Entry[];
    const rename = (id: string, name: string) => t.request('PATCH', `/api/v1/admin/devices/${id}`, { token: admin, body: { name } });

    it("shows a renamed device's current name on every entry, and the admin's email", async () => {
      const d = await t.enrollDevice({ model: 'Tab A8', serial: 'AUD-1' });
      const unnamed = await entries(d.deviceId);
      expect(unnamed.map((e) => [e.action, e.deviceName])).toEqual([['enrolled_device', 'Tab A8 AUD-1']]);
      await rename(d.deviceId, 'Till 1');
      await send({ type: 'PING', deviceIds: [d.deviceId] });
      await rename(d.deviceId, 'Till 9');
      const named = await entries(d.deviceId);
      expect(named.map((e) => e.deviceName)).toEqual(['Till 9', 'Till 9', 'Till 9', 'Till 9']);
      const byAdmin = named.filter((e) => e.actor.type === 'admin');
      expect(byAdmin.length).toBe(3);
      expect(byAdmin.every((e) => e.actor.email === 'admin@example.com')).toBe(true);
      expect(named.find((e) => e.actor.type === 'device')?.actor.email).toBeNull();
    });

    it('falls back to the name its deletion recorded once a device is deleted', async () => {
      const d = await t.enrollDevice({ model: 'Tab A8', serial: 'AUD-2' });
      await rename(d.deviceId, 'Till 2');
      await retire(d.deviceId, { wipe: false });
      expect((await t.request('DELETE', `/api/v1/admin/devices/${d.deviceId}`, { token: admin })).status).toBe(204);
      const gone = await entries(d.deviceId);
      expect(gone.map((e) => e.action)).toEqual(['deleted_device', 'retired_device', 'updated_device', 'enrolled_device']);
      expect(new Set(gone.map((e) => e.deviceName))).toEqual(new Set(['Till 2']));
    });
  });

  describe('delete', () => {
    it('needs a retired device (409 otherwise, nothing deleted) and an admin', async () => {
      const d = await t.enrollDevice();
      const res = await t.request('DELETE', `/api/v1/admin/devices/${d.deviceId}`, { token: admin });
      expect(res.status).toBe(409);
      expect(res.json.error.code).toBe('device_not_retired');
      expect((await device(d.deviceId)).id).toBe(d.deviceId);
      await retire(d.deviceId, { wipe: false });
      expect((await t.request('DELETE', `/api/v1/admin/devices/${d.deviceId}`, { token: operator })).status).toBe(403);
      expect((await t.request('DELETE', '/api/v1/admin/devices/00000000-0000-4000-8000-000000000000', { token: admin })).status).toBe(404);
    });

    it('deletes its state, heartbeats and commands, and keeps every audit entry about it', async () => {
      const d = await t.enrollDevice({ serial: 'DEL-1' });
      await beat(d);
      await send({ type: 'PING', deviceIds: [d.deviceId] });
      await retire(d.deviceId, { wipe: false });
      const before = (await audit(d.deviceId)).length;
      expect((await t.request('DELETE', `/api/v1/admin/devices/${d.deviceId}`, { token: admin })).status).toBe(204);
      expect((await t.request('GET', `/api/v1/admin/devices/${d.deviceId}`, { token: admin })).status).toBe(404);
      const left = async (table: 'heartbeats' | 'commands' | 'device_tags' | 'alerts') =>
        Number(
          (
            await t.db.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('device_id', '=', d.deviceId)
              .executeTakeFirstOrThrow()
          ).n,
        );
      expect([await left('heartbeats'), await left('commands'), await left('device_tags'), await left('alerts')]).toEqual([0, 0, 0, 0]);
      const trail = await audit(d.deviceId);
      expect(trail).toHaveLength(before + 1);
      expect(trail.at(-1)).toMatchObject({
        action: 'deleted_device',
        details: { serial: 'DEL-1', model: 'Pixel 7', heartbeats: 1, commands: 1 },
      });
    });
  });

  describe('replace and duplicate serials', () => {
    it('flags two enrollments of one serial, and the new device takes over the offline one', async () => {
      const old = await t.enrollDevice({ serial: 'HW-42' });
      await t.request('PATCH', `/api/v1/admin/devices/${old.deviceId}`, {
        token: admin,
        body: { name: 'Store 12 till', group: 'Store 12', tags: ['till', 'floor-1'] },
      });
      await beat(old);
      const nu = await t.enrollDevice({ serial: 'HW-42' });
      await t.enrollDevice({ serial: 'unknown' });
      await t.enrollDevice({ serial: 'unknown' });
      expect((await device(old.deviceId)).duplicateSerialOf).toEqual([nu.deviceId]);
      expect((await device(nu.deviceId)).duplicateSerialOf).toEqual([old.deviceId]);
      const dups = await t.request('GET', '/api/v1/admin/devices?duplicates=true', { token: admin });
      expect(dups.json.items.map((i: { id: string }) => i.id).sort()).toEqual([old.deviceId, nu.deviceId].sort());

      const replace = (id: string, newDeviceId: unknown, token = admin) =>
        t.request('POST', `/api/v1/admin/devices/${id}/replace`, { token, body: { newDeviceId } });
      expect((await replace(old.deviceId, nu.deviceId, operator)).status).toBe(403);
      expect((await replace(old.deviceId, 'not-a-uuid')).status).toBe(400);
      expect((await replace(old.deviceId, old.deviceId)).status).toBe(400);
      expect((await replace(old.deviceId, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
      const online = await replace(old.deviceId, nu.deviceId);
      expect(online.status).toBe(409);
      expect(online.json.error.code).toBe('device_online');
      expect((await device(nu.deviceId)).name).toBeNull();

      goOffline();
      await beat(nu);
      const oldToken = await t.deviceToken(old);
      const res = await replace(old.deviceId, nu.deviceId);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        oldDeviceId: old.deviceId,
        newDeviceId: nu.deviceId,
        name: 'Store 12 till',
        group: 'Store 12',
        tags: ['floor-1', 'till'],
      });
      const taken = await device(nu.deviceId);
      expect(taken).toMatchObject({ name: 'Store 12 till', group: { name: 'Store 12' }, tags: ['floor-1', 'till'], duplicateSerialOf: [] });
      expect(await device(old.deviceId)).toMatchObject({ status: 'retired', replacedBy: nu.deviceId });
      expect((await beat(old, oldToken)).status).toBe(403);
      expect((await audit(nu.deviceId)).at(-1)).toMatchObject({ action: 'replaced_device', details: { replacedDeviceId: old.deviceId } });
      expect((await audit(old.deviceId)).at(-1)).toMatchObject({ action: 'retired_device', details: { replacedBy: nu.deviceId } });
      // a retired device cannot take over anything
      const third = await t.enrollDevice();
      expect((await replace(third.deviceId, old.deviceId)).json.error.code).toBe('device_not_active');
    });

    it('lets a new device take over a retired one', async () => {
      const old = await t.enrollDevice();
      await t.request('PATCH', `/api/v1/admin/devices/${old.deviceId}`, { token: admin, body: { name: 'Kiosk 7' } });
      await retire(old.deviceId, { wipe: false });
      const nu = await t.enrollDevice();
      const res = await t.request('POST', `/api/v1/admin/devices/${old.deviceId}/replace`, {
        token: admin,
        body: { newDeviceId: nu.deviceId },
      });
      expect(res.status).toBe(200);
      expect((await device(nu.deviceId)).name).toBe('Kiosk 7');
      expect((await device(old.deviceId)).replacedBy).toBe(nu.deviceId);
    });
  });

  describe('bulk move and tag edits', () => {
    let ids: string[];
    const groupOf = async (id: string) => (await device(id)).group?.name ?? null;
    const move = (body: unknown, token = operator) => t.request('POST', '/api/v1/admin/devices/move', { token, body });
    const tag = (body: unknown, token = operator) => t.request('POST', '/api/v1/admin/devices/tags', { token, body });

    beforeAll(async () => {
      ids = [];
      for (let i = 0; i < 3; i++) ids.push((await t.enrollDevice()).deviceId);
    });

    it('refuses bad input, unknown or retired devices, and viewers - and then nothing changes', async () => {
      const retired = (await t.enrollDevice()).deviceId;
      await retire(retired, { wipe: false });
      expect((await move({ deviceIds: ids, group: 'Hall' }, viewer)).status).toBe(403);
      expect((await move({ deviceIds: [], group: 'Hall' })).status).toBe(400);
      expect((await move({ deviceIds: ids })).status).toBe(400);
      expect((await move({ deviceIds: ids, group: 'bad/name' })).status).toBe(400);
      const unknown = await move({ deviceIds: [...ids, '00000000-0000-4000-8000-000000000000'], group: 'Hall' });
      expect(unknown.status).toBe(404);
      expect(unknown.json.error.message).toContain('00000000-0000-4000-8000-000000000000');
      expect((await move({ deviceIds: [...ids, retired], group: 'Hall' })).status).toBe(409);
      expect(await Promise.all(ids.map(groupOf))).toEqual([null, null, null]);
      expect((await tag({ deviceIds: ids })).status).toBe(400);
      expect((await tag({ deviceIds: ids, add: ['a'], remove: ['a'] })).status).toBe(400);
      expect((await tag({ deviceIds: ids, add: ['has space'] })).status).toBe(400);
      expect((await tag({ deviceIds: [...ids, retired], add: ['x'] })).status).toBe(409);
      expect((await device(ids[0]!)).tags).toEqual([]);
    });

    it('moves devices in one transaction and counts the blast radius; a dry run changes nothing', async () => {
      const dry = await move({ deviceIds: ids, group: 'Hall', dryRun: true });
      expect(dry.json).toEqual({ matched: 3, changed: 3, dryRun: true });
      expect(await groupOf(ids[0]!)).toBeNull();
      expect(
        (await t.request('GET', '/api/v1/admin/groups', { token: admin })).json.items.map((g: { name: string }) => g.name),
      ).not.toContain('Hall');
      await move({ deviceIds: [ids[0]!], group: 'Hall' });
      const res = await move({ deviceIds: [...ids, ids[1]!], group: 'Hall' });
      expect(res.json).toEqual({ matched: 3, changed: 2, dryRun: false });
      expect(await Promise.all(ids.map(groupOf))).toEqual(['Hall', 'Hall', 'Hall']);
      const out = await move({ deviceIds: [ids[2]!], group: null });
      expect(out.json.changed).toBe(1);
      expect(await groupOf(ids[2]!)).toBeNull();
      const entries = await t.db.db.selectFrom('audit_log').select('details').where('action', '=', 'moved_devices').execute();
      expect(entries.map((e) => (e.details as { changed: number }).changed)).toEqual([1, 2, 1]);
    });

    it('adds and removes tags on many devices at once', async () => {
      await t.request('PATCH', `/api/v1/admin/devices/${ids[0]!}`, { token: admin, body: { tags: ['old', 'keep'] } });
      const dry = await tag({ deviceIds: ids, add: ['new'], remove: ['old'], dryRun: true });
      expect(dry.json).toEqual({ matched: 3, changed: 3, dryRun: true });
      expect((await device(ids[1]!)).tags).toEqual([]);
      const res = await tag({ deviceIds: ids, add: ['new'], remove: ['old'] });
      expect(res.json).toEqual({ matched: 3, changed: 3, dryRun: false });
      expect((await device(ids[0]!)).tags).toEqual(['keep', 'new']);
      expect((await device(ids[1]!)).tags).toEqual(['new']);
      expect((await tag({ deviceIds: ids, add: ['new'] })).json.changed).toBe(0);
      const entry = await t.db.db
        .selectFrom('audit_log')
        .select(['details', 'actor_type'])
        .where('action', '=', 'tagged_devices')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      expect(entry.details).toMatchObject({ add: ['new'], remove: [], changed: 0, matched: 3 });
    });
  });
});

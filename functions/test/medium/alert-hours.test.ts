import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCENARIO_DB_KINDS } from '../helpers/db.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe.each(SCENARIO_DB_KINDS)('alert hours API and bulk acknowledge on %s', (kind) => {
  let t: TestApp;
  let admin: string;
  let groupId: string;
  let deviceId: string;

  beforeEach(async () => {
    t = await createTestApp(kind);
    admin = await t.loginAs('admin');
    const d = await t.enrollDevice({ serial: 'G-1' });
    deviceId = d.deviceId;
    const res = await t.request('PATCH', `/api/v1/admin/devices/${d.deviceId}`, { token: admin, body: { group: 'Store 1' } });
    groupId = res.json.group.id;
  });
  afterEach(() => t.close());

  const hoursPath = () => `/api/v1/admin/groups/${groupId}/alert-hours`;
  const audit = (action: string) => t.db.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

  it('refuses bad hours with a code each and changes nothing', async () => {
    const cases: [unknown, number, string][] = [
      [{ timeZone: 'Mars/Olympus', weekly: {} }, 400, 'invalid_time_zone'],
      [
        {
          timeZone: 'Europe/Berlin',
          weekly: {
            mon: [
              [540, 720],
              [700, 900],
            ],
          },
        },
        400,
        'overlapping_ranges',
      ],
      [{ timeZone: 'Europe/Berlin', weekly: { mon: [[720, 540]] } }, 400, 'range_end_before_start'],
    ];
    for (const [body, status, code] of cases) {
      const res = await t.request('PUT', hoursPath(), { token: admin, body });
      expect(res.status).toBe(status);
      expect(res.json.error.code).toBe(code);
    }
    const shape = await t.request('PUT', hoursPath(), { token: admin, body: { timeZone: 'UTC', weekly: { mon: [[0, 1441]] } } });
    expect(shape.status).toBe(400);
    const unknownDay = await t.request('PUT', hoursPath(), { token: admin, body: { timeZone: 'UTC', weekly: { monday: [[0, 60]] } } });
    expect(unknownDay.status).toBe(400);
    const got = await t.request('GET', hoursPath(), { token: admin });
    expect(got.json).toMatchObject({ groupId, hours: null, windows: [], quietNow: false });
    expect(await audit('updated_alert_hours')).toEqual([]);
    const missing = await t.request('PUT', '/api/v1/admin/groups/00000000-0000-4000-8000-000000000000/alert-hours', {
      token: admin,
      body: { timeZone: 'UTC', weekly: {} },
    });
    expect(missing.status).toBe(404);
  });

  it('sets, shows and clears hours and windows; only admins change them; each change audited', async () => {
    const operator = await t.loginAs('operator');
    const body = {
      timeZone: 'America/New_York',
      weekly: {
        fri: [[1320, 1440]],
        sat: [[0, 120]],
        mon: [
          [600, 700],
          [60, 120],
        ],
      },
    };
    expect((await t.request('PUT', hoursPath(), { token: operator, body })).status).toBe(403);
    const set = await t.request('PUT', hoursPath(), { token: admin, body });
    expect(set.status).toBe(200);
    expect(set.json.hours.weekly.mon).toEqual([
      [60, 120],
      [600, 700],
    ]);
    // 2026-03-10T12:00Z (the test clock) is 08:00 on a Tuesday in New York: closed
    expect(set.json.quietNow).toBe(true);

    const win = await t.request('POST', `/api/v1/admin/groups/${groupId}/maintenance-windows`, {
      token: admin,
      body: { startsAt: '2026-03-10T13:00:00Z', endsAt: '2026-03-10T14:00:00+00:00', reason: 'update' },
    });
    expect(win.status).toBe(201);
    const past = await t.request('POST', `/api/v1/admin/groups/${groupId}/maintenance-windows`, {
      token: admin,
      body: { startsAt: '2026-03-09T13:00:00Z', endsAt: '2026-03-09T14:00:00Z' },
    });
    expect(past.json.error.code).toBe('window_in_past');
    const got = await t.request('GET', hoursPath(), { token: await t.loginAs('viewer') });
    expect(got.json.windows).toEqual([
      { id: win.json.id, startsAt: '2026-03-10T13:00:00.000Z', endsAt: '2026-03-10T14:00:00.000Z', reason: 'update' },
    ]);

    const del = await t.request('DELETE', `/api/v1/admin/groups/${groupId}/maintenance-windows/${win.json.id}`, { token: admin });
    expect(del.status).toBe(204);
    const again = await t.request('DELETE', `/api/v1/admin/groups/${groupId}/maintenance-windows/${win.json.id}`, { token: admin });
    expect(again.status).toBe(404);
    const cleared = await t.request('DELETE', hoursPath(), { token: admin });
    expect(cleared.json).toMatchObject({ hours: null, quietNow: false });

    expect((await audit('updated_alert_hours')).map((a) => a.details)).toEqual([
      expect.objectContaining({ timeZone: 'America/New_York' }),
      { timeZone: null, weekly: null },
    ]);
    expect(await audit('created_maintenance_window')).toHaveLength(1);
    expect(await audit('deleted_maintenance_window')).toHaveLength(1);
  });

  it('acknowledges many alerts in one call, by ids or by filter, audited once with the count', async () => {
    const devices = [deviceId];
    for (let i = 0; i < 4; i++) devices.push((await t.enrollDevice({ serial: `B-${i}` })).deviceId);
    t.clock.advance(13 * 60_000);
    await t.app.tick();
    const all = (await t.request('GET', '/api/v1/admin/alerts?status=open', { token: admin })).json.items as {
      id: string;
      device: { id: string };
    }[];
    expect(all).toHaveLength(5);
    const open = all.filter((a) => a.device.id !== deviceId); // the four outside the group

    const operator = await t.loginAs('operator');
    const neither = await t.request('POST', '/api/v1/admin/alerts/ack', { token: operator, body: {} });
    expect(neither.json.error.code).toBe('ids_or_filter_required');
    const unknown = await t.request('POST', '/api/v1/admin/alerts/ack', {
      token: operator,
      body: { ids: [open[0]!.id, '00000000-0000-4000-8000-000000000000'] },
    });
    expect(unknown.status).toBe(404);
    const byIds = await t.request('POST', '/api/v1/admin/alerts/ack', { token: operator, body: { ids: [open[0]!.id, open[1]!.id] } });
    expect(byIds.json).toEqual({ acknowledged: 2 });
    const byGroup = await t.request('POST', '/api/v1/admin/alerts/ack', { token: operator, body: { filter: { groupId } } });
    expect(byGroup.json).toEqual({ acknowledged: 1 });
    const rest = await t.request('POST', '/api/v1/admin/alerts/ack', { token: operator, body: { filter: { kind: 'offline' } } });
    expect(rest.json).toEqual({ acknowledged: 2 });
    const after = (await t.request('GET', '/api/v1/admin/alerts?status=open', { token: admin })).json.items as {
      acknowledgedAt: string | null;
    }[];
    expect(after.every((a) => a.acknowledgedAt !== null)).toBe(true);
    const entries = await audit('acknowledged_alerts');
    expect(entries.map((e) => (e.details as { count: number }).count)).toEqual([2, 1, 2]);
  });
});

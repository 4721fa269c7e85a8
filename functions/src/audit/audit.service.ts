import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Database } from '../ports/schema.generated.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { insertAuditEntry, listAuditEntries, type AuditRow } from './audit.repository.js';
import type { AuditActor, AuditEvent } from './audit.types.js';

export interface AuditQuery {
  actorId?: string | undefined;
  action?: string | undefined;
  deviceId?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** The only writer of the audit log. `record` takes the caller's transaction so the entry commits with the change. */
export class AuditService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async record(trx: Kysely<Database>, actor: AuditActor, event: AuditEvent, ip?: string): Promise<void> {
    await insertAuditEntry(trx, {
      at: this.clock.now(),
      actor_type: actor.kind,
      actor_id: actor.kind === 'admin' || actor.kind === 'token' ? actor.id : actor.kind === 'device' ? actor.deviceId : null,
      actor_name: actor.kind === 'admin' ? actor.email : actor.kind === 'device' ? actor.deviceId : actor.name,
      action: event.action,
      target_type: event.target.type,
      target_id: event.target.id,
      device_id: event.target.type === 'device' ? event.target.id : 'deviceId' in event ? (event.deviceId ?? null) : null,
      ip: ip ?? null,
      details: JSON.stringify(event.details),
    });
  }

  async list(q: AuditQuery) {
    const beforeId = q.cursor === undefined ? undefined : decodeCursor(q.cursor, (c) => (typeof c.id === 'number' ? c.id : null));
    const rows = await listAuditEntries(this.db, { ...q, beforeId, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map(toApi),
      nextCursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null,
    };
  }
}

/**
 * A device's name as the log shows it: its current display name; once deleted, the name its deletion
 * kept, else the name the entry itself recorded, else its id.
 */
function deviceNameOf(row: AuditRow): string | null {
  if (!row.device_id) return null;
  if (row.device_exists) return row.device_name ?? row.device_id;
  const own = typeof row.details.name === 'string' ? row.details.name : null;
  return row.deleted_device_name ?? own ?? row.device_id;
}

function toApi(row: AuditRow) {
  return {
    id: row.id,
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name, email: row.actor_email ?? null },
    action: row.action,
    target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
    deviceId: row.device_id,
    deviceName: deviceNameOf(row),
    ip: row.ip,
    details: row.details,
  };
}

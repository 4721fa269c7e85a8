import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { AuditLog, Database } from '../ports/schema.generated.js';
import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { insertAuditEntry, listAuditEntries } from './audit.repository.js';
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

function toApi(row: AuditLog) {
  return {
    id: row.id,
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    action: row.action,
    target: row.target_type ? { type: row.target_type, id: row.target_id } : null,
    deviceId: row.device_id,
    ip: row.ip,
    details: row.details,
  };
}

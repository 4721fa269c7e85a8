import type { AuditService } from '../audit/index.js';
import type { CatalogService } from '../catalog/index.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../ports/db.js';
import type { Logger } from '../ports/logger.js';
import type { Push } from '../ports/push.js';
import type { Queue } from '../ports/queue.js';
import { commandRoutes } from './commands.routes.js';
import { CommandService } from './commands.service.js';
import { CommandDispatcher, type DispatcherOptions } from './dispatcher.js';
import { ApprovalService } from './approvals.service.js';
import { approvalRoutes } from './approvals.routes.js';
import { CancelService } from './cancel.service.js';
import { ResultService } from './results.service.js';

/** The commands context: signed commands, their batches, push dispatch and results (its public surface). */
export { CommandService };
export { ApprovalService } from './approvals.service.js';
export type { CommandActor } from './commands.service.js';
export { CommandDispatcher, type DispatchReport } from './dispatcher.js';
export { signEnvelope, signingInput, unixSeconds, type UnsignedEnvelope } from './envelope.js';
export { envelopeSchema } from './commands.schemas.js';

export interface CommandsDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  logger: Logger;
  queue: Queue;
  push: Push;
  encryptionKey: Buffer;
  /** The app catalog INSTALL_APK names releases of. */
  releases: Pick<CatalogService, 'installable'>;
  settings: { defaultTtlSec: number; maxPerHeartbeat: number; push: Omit<DispatcherOptions, 'encryptionKey'> };
}

export function createCommands(d: CommandsDeps) {
  const { encryptionKey } = d;
  const commands = new CommandService(d.db, d.clock, d.audit, d.queue, d.logger, {
    encryptionKey,
    defaultTtlSec: d.settings.defaultTtlSec,
    maxPerHeartbeat: d.settings.maxPerHeartbeat,
    releases: d.releases,
  });
  const dispatcher = new CommandDispatcher(d.db, d.push, d.clock, d.logger, { encryptionKey, ...d.settings.push });
  const approvals = new ApprovalService(d.db, d.clock, d.audit, commands);
  commands.approvals = approvals;
  const cancels = new CancelService(d.db, d.clock, d.audit, d.logger, dispatcher);
  const results = new ResultService(d.db, d.clock, d.audit);
  return {
    commands,
    dispatcher,
    approvals,
    routes: [...commandRoutes(commands, cancels, results), ...approvalRoutes(approvals)],
    /** The minute's job: commands nobody picked up in time expire. */
    expire: () => commands.expire(),
  };
}

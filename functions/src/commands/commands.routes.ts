import { json, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import {
  batchParams,
  cancelledCommands,
  commandDetail,
  commandPage,
  createCommandBody,
  createdCommands,
  listCommandsQuery,
  pendingApproval,
  resultBody,
  resultResponse,
} from './commands.schemas.js';
import type { CancelService } from './cancel.service.js';
import type { CommandService } from './commands.service.js';
import type { ResultService } from './results.service.js';

export const commandRoutes = (commands: CommandService, cancels: CancelService, results: ResultService) => [
  route({
    method: 'POST',
    path: '/api/v1/admin/commands',
    auth: 'operator',
    scope: 'commands:write',
    tag: 'commands',
    summary:
      'Send a signed command to devices, a group, a tag or the whole fleet. Beyond one device (PING aside) it needs confirm {type, count} (428 gives it); WIPE and RELEASE_OWNER: admins only, and beyond one device a second admin approves (202)',
    body: createCommandBody,
    response: { status: 201, description: 'One command per targeted device', schema: createdCommands },
    alternatives: [
      { status: 202, description: 'A WIPE or RELEASE_OWNER for more than one device, waiting for another admin', schema: pendingApproval },
    ],
    errors: [403, 404, 428],
    handler: async ({ actor, body, ip }) => {
      const sent = await commands.send(actor, body, ip);
      return json(sent.status, sent.body);
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/commands/{id}/cancel',
    auth: 'operator',
    scope: 'commands:write',
    tag: 'commands',
    summary: 'Cancel a command the device has not started (queued or dispatched): it is never executed',
    params: idParams,
    response: { status: 200, description: 'Cancelled (0 when it already was)', schema: cancelledCommands },
    errors: [404, 409],
    handler: async ({ actor, params, ip }) => json(200, await cancels.cancel(actor, params.id, ip)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/command-batches/{batchId}/cancel',
    auth: 'operator',
    scope: 'commands:write',
    tag: 'commands',
    summary: 'Cancel every command of a batch the devices have not started; the others are left as they are',
    params: batchParams,
    response: { status: 200, description: 'How many were cancelled', schema: cancelledCommands },
    errors: [404],
    handler: async ({ actor, params, ip }) => json(200, await cancels.cancelBatch(actor, params.batchId, ip)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/commands',
    auth: 'viewer',
    scope: 'commands:read',
    tag: 'commands',
    summary: 'List commands, newest first',
    query: listCommandsQuery,
    response: { status: 200, description: 'A page of commands', schema: commandPage },
    handler: async ({ query }) => json(200, await commands.list(query)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/commands/{id}',
    auth: 'viewer',
    scope: 'commands:read',
    tag: 'commands',
    summary: 'One command with its push attempts',
    params: idParams,
    response: { status: 200, description: 'The command', schema: commandDetail },
    errors: [404],
    handler: async ({ params }) => json(200, await commands.get(params.id)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/commands/{id}/result',
    auth: 'device',
    tag: 'device',
    summary: "Report what became of a command (idempotent; only for the device's own commands)",
    params: idParams,
    body: resultBody,
    response: { status: 200, description: 'The command state now', schema: resultResponse },
    errors: [403, 404, 409],
    handler: async ({ actor, params, body, ip }) => json(200, await results.reportResult(actor, params.id, body, ip)),
  }),
];

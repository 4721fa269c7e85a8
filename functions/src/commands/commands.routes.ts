import { json, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import {
  commandDetail,
  commandPage,
  createCommandBody,
  createdCommands,
  listCommandsQuery,
  resultBody,
  resultResponse,
} from './commands.schemas.js';
import type { CommandService } from './commands.service.js';

export const commandRoutes = (commands: CommandService) => [
  route({
    method: 'POST',
    path: '/api/v1/admin/commands',
    auth: 'operator',
    tag: 'commands',
    summary: 'Send a signed command to devices, a group, a tag or the whole fleet (WIPE: admins only)',
    body: createCommandBody,
    response: { status: 201, description: 'One command per targeted device', schema: createdCommands },
    errors: [403, 404, 428],
    handler: async ({ actor, body, ip }) => json(201, await commands.create(actor, body, ip)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/commands',
    auth: 'viewer',
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
    handler: async ({ actor, params, body, ip }) => json(200, await commands.reportResult(actor, params.id, body, ip)),
  }),
];

import { json, route } from '../http/route.js';
import { consoleConfig, fleetPage, fleetQuery } from './console.schemas.js';
import type { ConsoleService } from './console.service.js';

export const consoleRoutes = (console: ConsoleService) => [
  route({
    method: 'GET',
    path: '/api/v1/console-config',
    auth: 'public',
    tag: 'console',
    summary: 'Where the admin console gets its live updates (read before signing in)',
    response: { status: 200, description: 'The console configuration', schema: consoleConfig },
    handler: async () => json(200, console.consoleConfig()),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/fleet',
    auth: 'viewer',
    tag: 'console',
    summary: "Every device as the live mirror's document, a page at a time (the console's snapshot before live updates)",
    query: fleetQuery,
    response: { status: 200, description: 'A page of device documents in id order', schema: fleetPage },
    handler: async ({ query }) => json(200, await console.fleet(query)),
  }),
];

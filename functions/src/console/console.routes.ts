import { json, route } from '../core/route.js';
import { consoleConfig } from './console.schemas.js';
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
];

import { json, route } from '../core/route.js';
import { fleetHealth, fleetHealthQuery, fleetPage, fleetQuery } from './fleet-view.schemas.js';
import type { FleetViewService } from './fleet-view.service.js';

export const fleetViewRoutes = (fleetView: FleetViewService) => [
  route({
    method: 'GET',
    path: '/api/v1/admin/fleet',
    auth: 'viewer',
    scope: 'devices:read',
    tag: 'console',
    summary: "Every device as the live mirror's document, a page at a time (the console's snapshot before live updates)",
    query: fleetQuery,
    response: { status: 200, description: 'A page of device documents in id order', schema: fleetPage },
    handler: async ({ query }) => json(200, await fleetView.fleet(query)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/fleet/health',
    auth: 'viewer',
    scope: 'devices:read',
    tag: 'console',
    summary: 'Online, offline and alerting devices per hour over the last 24 hours or 7 days, from the hourly rollups',
    query: fleetHealthQuery,
    response: { status: 200, description: 'One point per rolled-up hour, oldest first', schema: fleetHealth },
    handler: async ({ query }) => json(200, await fleetView.health(query)),
  }),
];

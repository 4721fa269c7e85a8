import { json, route } from '../core/route.js';
import { fleetCounts, fleetFacets, fleetFilterQuery, fleetPage, fleetQuery, fleetQueryPage, fleetSortQuery } from './fleet-view.schemas.js';
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
    path: '/api/v1/admin/fleet/query',
    auth: 'viewer',
    scope: 'devices:read',
    tag: 'console',
    summary: "The fleet filtered, sorted and paged on the server (the console's mode for large fleets)",
    query: fleetSortQuery,
    response: { status: 200, description: 'A page of device documents in the requested order', schema: fleetQueryPage },
    handler: async ({ query }) => json(200, await fleetView.query(query)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/fleet/counts',
    auth: 'viewer',
    scope: 'devices:read',
    tag: 'console',
    summary: "The fleet view's status cards and how many devices a filter matches",
    query: fleetFilterQuery,
    response: { status: 200, description: 'Counts', schema: fleetCounts },
    handler: async ({ query }) => json(200, await fleetView.counts(query)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/fleet/facets',
    auth: 'viewer',
    scope: 'devices:read',
    tag: 'console',
    summary: "The values the fleet view's filter menus offer (groups, tags, versions)",
    response: { status: 200, description: 'Filter values', schema: fleetFacets },
    handler: async () => json(200, await fleetView.facets()),
  }),
];

import { json, route } from '../core/route.js';
import { auditPage, auditQuery } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';

export const auditRoutes = (audit: AuditService) => [
  route({
    method: 'GET',
    path: '/api/v1/admin/audit',
    auth: 'viewer',
    scope: 'audit:read',
    tag: 'audit',
    summary: 'List audit log entries, newest first',
    query: auditQuery,
    response: { status: 200, description: 'A page of entries', schema: auditPage },
    handler: async ({ query }) => json(200, await audit.list(query)),
  }),
];

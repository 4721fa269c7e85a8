import { json, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import type { ApprovalService } from './approvals.service.js';
import { approvalList, approvalView, listApprovalsQuery, rejectBody } from './commands.schemas.js';

/** WIPE requests for more than one device, waiting for a second admin: admins only, never tokens. */
export const approvalRoutes = (approvals: ApprovalService) => [
  route({
    method: 'GET',
    path: '/api/v1/admin/command-approvals',
    auth: 'viewer',
    tag: 'commands',
    summary: 'Approval requests (WIPE to more than one device), newest first',
    query: listApprovalsQuery,
    response: { status: 200, description: 'Requests', schema: approvalList },
    handler: async ({ query }) => json(200, await approvals.list(query.status)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/command-approvals/{id}/approve',
    auth: 'admin',
    tag: 'commands',
    summary: "Approve another admin's request: the commands are created now",
    params: idParams,
    response: { status: 200, description: 'Approved, with the batch id', schema: approvalView },
    errors: [404, 409, 410, 428],
    handler: async ({ actor, params, ip }) => json(200, await approvals.approve(actor, params.id, ip)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/command-approvals/{id}/reject',
    auth: 'admin',
    tag: 'commands',
    summary: 'Reject a request (the requester may withdraw their own)',
    params: idParams,
    body: rejectBody,
    response: { status: 200, description: 'Rejected', schema: approvalView },
    errors: [404, 409, 410],
    handler: async ({ actor, params, body, ip }) => json(200, await approvals.reject(actor, params.id, body.reason, ip)),
  }),
];

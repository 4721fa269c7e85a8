import { json, noContent, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import {
  adbScriptQuery,
  createdToken,
  createTokenBody,
  enrollBody,
  enrollResponse,
  listTokensQuery,
  tokenPage,
} from './enrollment.schemas.js';
import type { EnrollmentService } from './enrollment.service.js';

export const enrollmentRoutes = (enrollment: EnrollmentService) => [
  route({
    method: 'POST',
    path: '/api/v1/admin/enrollment-tokens',
    auth: 'operator',
    tag: 'enrollment',
    summary: 'Create a single-use enrollment token (the token is in this response only)',
    body: createTokenBody,
    response: { status: 201, description: 'Created', schema: createdToken },
    handler: async ({ actor, body, ip }) => json(201, await enrollment.createToken(actor, body, ip)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/enrollment-tokens',
    auth: 'viewer',
    tag: 'enrollment',
    summary: 'List enrollment tokens, newest first',
    query: listTokensQuery,
    response: { status: 200, description: 'A page of tokens', schema: tokenPage },
    handler: async ({ query }) => json(200, await enrollment.listTokens(query)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/admin/enrollment-tokens/{id}',
    auth: 'operator',
    tag: 'enrollment',
    summary: 'Revoke an unused enrollment token',
    params: idParams,
    response: { status: 204, description: 'Revoked (or already revoked)' },
    errors: [404, 409],
    handler: async ({ actor, params, ip }) => {
      await enrollment.revokeToken(actor, params.id, ip);
      return noContent();
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/admin/enrollment-tokens/{id}/adb-script',
    auth: 'operator',
    tag: 'enrollment',
    summary: 'A ready-to-run ADB enrollment script for sh (Linux/macOS) or PowerShell; the token is its argument',
    params: idParams,
    query: adbScriptQuery,
    response: { status: 200, description: 'The script', contentType: 'text/plain' },
    errors: [404, 409, 410],
    handler: async ({ params, query }) => {
      const script = await enrollment.adbScript(params.id, query.shell);
      return {
        status: 200,
        text: script.text,
        contentType: query.shell === 'sh' ? 'text/x-shellscript; charset=utf-8' : 'text/plain; charset=utf-8',
        headers: { 'content-disposition': `attachment; filename="${script.filename}"` },
      };
    },
  }),
  route({
    method: 'POST',
    path: '/api/v1/enroll',
    auth: 'public',
    tag: 'device',
    summary: 'Enroll a device with a single-use token',
    body: enrollBody,
    rateLimit: 'enroll',
    response: { status: 201, description: 'Enrolled', schema: enrollResponse },
    errors: [401, 409, 410, 429],
    handler: async ({ body, ip }) => json(201, await enrollment.enroll(body, ip)),
  }),
];

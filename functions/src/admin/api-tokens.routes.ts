import { json, noContent, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import { apiTokenList, createApiTokenBody, createdApiToken } from './api-tokens.schemas.js';
import type { ApiTokenService } from './api-tokens.service.js';

/** Scoped API tokens: admins only, and never to tokens (no scope), so a token cannot mint another. */
export const apiTokenRoutes = (tokens: ApiTokenService) => [
  route({
    method: 'GET',
    path: '/api/v1/admin/api-tokens',
    auth: 'admin',
    tag: 'admin',
    summary: 'List API tokens (never their secrets)',
    response: { status: 200, description: 'Every token', schema: apiTokenList },
    handler: async () => json(200, await tokens.list()),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/api-tokens',
    auth: 'admin',
    tag: 'admin',
    summary: 'Create a named API token with scopes and an expiry; the secret is shown once',
    body: createApiTokenBody,
    response: { status: 201, description: 'Created, with the secret', schema: createdApiToken },
    errors: [409],
    handler: async ({ actor, body, ip }) => json(201, await tokens.create(actor, body, ip)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/admin/api-tokens/{id}',
    auth: 'admin',
    tag: 'admin',
    summary: 'Revoke an API token (takes effect on its next request)',
    params: idParams,
    response: { status: 204, description: 'Revoked' },
    errors: [404],
    handler: async ({ actor, params, ip }) => {
      await tokens.revoke(actor, params.id, ip);
      return noContent();
    },
  }),
];

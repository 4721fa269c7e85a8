import { json, noContent, route } from '../core/route.js';
import { idParams } from '../core/schemas.js';
import { createUserBody, updateUserBody, userList, userWithPassword } from './users.schemas.js';
import type { UserService } from './users.service.js';

/** Console users and their roles: admins only. */
export const userRoutes = (users: UserService) => [
  route({
    method: 'GET',
    path: '/api/v1/admin/users',
    auth: 'admin',
    tag: 'admin',
    summary: 'List console users with their roles',
    response: { status: 200, description: 'Every user', schema: userList },
    handler: async () => json(200, await users.list()),
  }),
  route({
    method: 'POST',
    path: '/api/v1/admin/users',
    auth: 'admin',
    tag: 'admin',
    summary: 'Create a console user; without a password one is generated and shown once',
    body: createUserBody,
    response: { status: 201, description: 'Created', schema: userWithPassword },
    errors: [409],
    handler: async ({ actor, body, ip }) => json(201, await users.create(actor, body, ip)),
  }),
  route({
    method: 'PATCH',
    path: '/api/v1/admin/users/{id}',
    auth: 'admin',
    tag: 'admin',
    summary: 'Rename, change the role, disable or enable, or set or reset the password of a user',
    params: idParams,
    body: updateUserBody,
    response: { status: 200, description: 'The user', schema: userWithPassword },
    errors: [404, 409],
    handler: async ({ actor, params, body, ip }) => json(200, await users.update(actor, params.id, body, ip)),
  }),
  route({
    method: 'DELETE',
    path: '/api/v1/admin/users/{id}',
    auth: 'admin',
    tag: 'admin',
    summary: 'Delete a user who has no history (otherwise disable them)',
    params: idParams,
    response: { status: 204, description: 'Deleted' },
    errors: [404, 409],
    handler: async ({ actor, params, ip }) => {
      await users.remove(actor, params.id, ip);
      return noContent();
    },
  }),
];

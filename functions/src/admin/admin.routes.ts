import { z } from 'zod';
import { json, noContent, route } from '../core/route.js';
import { SESSION_COOKIE } from '../core/route.js';
import { adminView, changePasswordBody, loginBody, loginResponse } from './admin.schemas.js';
import { view, type AdminService } from './admin.service.js';

/** The routes an admin who must change a generated password may still call. */
export const PASSWORD_PATH = '/api/v1/admin/me/password';
export const OPEN_WHILE_PASSWORD_CHANGE = new Set([PASSWORD_PATH, '/api/v1/admin/me', '/api/v1/admin/logout']);

export const adminRoutes = (admins: AdminService, opts: { secureCookie: boolean }) => {
  const cookie = (value: string, maxAgeSec: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSec}${opts.secureCookie ? '; Secure' : ''}`;
  return [
    route({
      method: 'POST',
      path: '/api/v1/admin/login',
      auth: 'public',
      tag: 'admin',
      summary: 'Sign in; returns a session token and sets it as an HttpOnly cookie',
      body: loginBody,
      rateLimit: 'login',
      response: { status: 200, description: 'Signed in', schema: loginResponse },
      errors: [401, 429],
      handler: async ({ body, ip }) => {
        const s = await admins.login(body.email, body.password, ip);
        return json(
          200,
          { token: s.token, expiresAt: s.expiresAt, admin: s.admin, firebaseToken: s.firebaseToken },
          { 'set-cookie': cookie(s.token, s.maxAgeSec) },
        );
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/admin/logout',
      auth: 'viewer',
      tag: 'admin',
      summary: 'Sign out: ends every session of this admin (all their tokens) and clears the cookie',
      response: { status: 204, description: 'Signed out' },
      handler: async ({ actor, ip }) => {
        await admins.logout(actor, ip);
        return { ...noContent(), headers: { 'set-cookie': cookie('', 0) } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/v1/admin/me',
      auth: 'viewer',
      tag: 'admin',
      summary: 'The signed-in admin',
      response: { status: 200, description: 'The admin', schema: z.object({ admin: adminView }) },
      handler: async ({ actor }) => json(200, { admin: view(actor, admins.mustChangePassword(actor)) }),
    }),
    route({
      method: 'POST',
      path: PASSWORD_PATH,
      auth: 'viewer',
      tag: 'admin',
      summary: "Change the signed-in admin's password; ends their other sessions and returns a new one",
      body: changePasswordBody,
      response: { status: 200, description: 'Changed; a new session', schema: loginResponse },
      errors: [403],
      handler: async ({ actor, body, ip }) => {
        const s = await admins.changePassword(actor, body.currentPassword, body.newPassword, ip);
        return json(
          200,
          { token: s.token, expiresAt: s.expiresAt, admin: s.admin, firebaseToken: s.firebaseToken },
          { 'set-cookie': cookie(s.token, s.maxAgeSec) },
        );
      },
    }),
  ];
};

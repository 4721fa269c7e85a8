import { z } from 'zod';
import { text } from '../core/schemas.js';
import { ROLES } from '../core/route.js';
import { password } from './users.schemas.js';

export const loginBody = z.object({
  email: text(254).regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address'),
  password: text(200).min(1),
});

export const adminView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  mustChangePassword: z
    .boolean()
    .describe('Signed in with a generated password: every other admin route answers 403 password_change_required until it is changed'),
});

export const changePasswordBody = z.object({
  currentPassword: text(200).min(1),
  newPassword: password,
});

export const loginResponse = z.object({
  token: z.string().describe('Admin session JWT; also set as the HttpOnly mdm_session cookie'),
  expiresAt: z.iso.datetime(),
  admin: adminView,
  firebaseToken: z
    .string()
    .nullable()
    .describe('Firebase custom token with the role claim (Firebase deployments), for reading the live mirror; null standalone'),
});

import { z } from 'zod';
import { ROLES } from '../core/route.js';
import { isoDateTime, text } from '../core/schemas.js';
import { passwordProblem } from './password-policy.js';

export const password = text(72)
  .superRefine((p, ctx) => {
    const problem = passwordProblem(p);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('At least 10 characters and at most 72 bytes in UTF-8 (bcrypt reads 72 bytes); not a common password');

export const userView = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  disabled: z.boolean(),
  createdAt: isoDateTime,
  lastLoginAt: isoDateTime.nullable(),
});

export const userList = z.object({ items: z.array(userView) });

export const createUserBody = z.object({
  email: text(254).regex(/^[^@\s]+@[^@\s]+$/, 'must be an e-mail address'),
  name: text(100).optional(),
  role: z.enum(ROLES),
  password: password.optional().describe('Omit it to have one generated and shown once in the response'),
});

export const updateUserBody = z
  .object({
    name: text(100).optional(),
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional(),
    password: password.optional(),
    resetPassword: z.literal(true).optional().describe('Generate a new password, shown once in the response'),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'name, role, disabled, password or resetPassword')
  .refine((b) => !(b.password !== undefined && b.resetPassword), 'give password or resetPassword, not both');

export const userWithPassword = userView.extend({
  generatedPassword: z.string().nullable().describe('The generated password; shown once, only its bcrypt hash is stored'),
});

export type CreateUserInput = z.output<typeof createUserBody>;
export type UpdateUserInput = z.output<typeof updateUserBody>;

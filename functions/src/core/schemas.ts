import { z } from 'zod';

/**
 * Building blocks for request schemas. Strings never carry NUL (PostgreSQL rejects it in text and
 * jsonb, which would otherwise surface as a 500), and every string and number has a bound.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters');

export const nonEmptyText = (max: number) => text(max).refine((s) => s.trim().length > 0, 'must not be empty');

export const uuid = z.uuid();
export const idParams = z.object({ id: uuid });

export const isoDateTime = z.iso.datetime({ offset: true });

/** A non-negative integer small enough to be exact in JavaScript and PostgreSQL bigint. */
export const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const limitQuery = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
export const cursorQuery = text(512).optional();
/** A query string's true or false (anything else is a 400). */
export const queryFlag = z.enum(['true', 'false']).transform((v) => v === 'true');

export const errorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    confirm: z
      .object({ type: z.string(), count: z.number().int() })
      .optional()
      .describe("428 confirmation_required: what the server computed; resend it as the body's confirm"),
  }),
});

/** A page of items with the cursor of the next page, or null on the last page. */
export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** A device group's name, as every context takes it. */
export const groupName = z.string().regex(/^[\p{L}\p{N}_][\p{L}\p{N} _.:-]{0,63}$/u, 'letters, digits, space, _ . : - (1-64 characters)');

/** A device tag, as every context takes it. */
export const tagName = z.string().regex(/^[\p{L}\p{N}_][\p{L}\p{N}_.:-]{0,63}$/u, 'letters, digits, _ . : - (1-64 characters, no spaces)');

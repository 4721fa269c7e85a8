import { z } from 'zod';

export const LIVE_SOURCES = ['sse', 'firestore'] as const;
export type LiveSource = (typeof LIVE_SOURCES)[number];

export const consoleConfig = z.object({
  liveSource: z.enum(LIVE_SOURCES).describe('sse: GET /api/v1/admin/stream; firestore: the mirror documents with onSnapshot'),
  firebase: z
    .object({ apiKey: z.string(), authDomain: z.string(), projectId: z.string(), appId: z.string() })
    .optional()
    .describe('The Firebase web app the console signs in to with the login firebaseToken (Firebase deployments)'),
});
export type ConsoleConfig = z.output<typeof consoleConfig>;

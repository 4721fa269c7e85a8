import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../ports/db.js';
import type { LiveStream } from '../ports/live-stream.js';
import { AppError } from '../core/errors.js';
import { json, route, type Route } from '../core/route.js';

export const systemRoutes = (db: Db, openapi: () => unknown): Route[] => [
  route({
    method: 'GET',
    path: '/healthz',
    auth: 'public',
    tag: 'system',
    summary: 'Liveness and database reachability',
    response: { status: 200, description: 'Healthy', schema: z.object({ status: z.literal('ok') }) },
    errors: [503],
    handler: async () => {
      await sql`select 1`.execute(db);
      return json(200, { status: 'ok' });
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/openapi.json',
    auth: 'public',
    tag: 'system',
    summary: 'This OpenAPI 3.1 document',
    response: { status: 200, description: 'The document' },
    handler: async () => json(200, openapi()),
  }),
];

/** The live view for the standalone console; in Firebase mode the console reads Firestore instead. */
export const streamRoutes = (sse: LiveStream | undefined): Route[] => [
  route({
    method: 'GET',
    path: '/api/v1/admin/stream',
    auth: 'viewer',
    tag: 'system',
    summary: 'Server-Sent Events: `device` (a device document changed) and `summary` (fleet counts)',
    response: { status: 200, description: 'An open event stream', contentType: 'text/event-stream' },
    errors: [404],
    handler: async () => {
      if (!sse) throw new AppError(404, 'not_available', 'this deployment serves the live view from Firestore');
      return { status: 200, stream: (sink) => sse.attach(sink) };
    },
  }),
];

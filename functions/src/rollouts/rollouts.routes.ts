import { json, route } from '../core/route.js';
import { createRolloutBody, listRolloutsQuery, reasonBody, rolloutPage, rolloutParams, rolloutView } from './rollouts.schemas.js';
import type { RolloutService } from './rollouts.service.js';

/** The rollouts' route table (docs/rollouts.md). Reads are open to viewers; every change takes an operator. */
export const rolloutRoutes = (rollouts: RolloutService) => {
  const action = (verb: 'start' | 'pause' | 'resume' | 'promote' | 'abort' | 'rollback', summary: string) =>
    route({
      method: 'POST',
      path: `/api/v1/admin/rollouts/{id}/${verb}`,
      auth: 'operator',
      scope: 'commands:write',
      tag: 'rollouts',
      summary,
      params: rolloutParams,
      body: reasonBody,
      response: { status: 200, description: 'The rollout', schema: rolloutView },
      errors: [404, 409],
      handler: async ({ actor, params, body, ip }) => {
        const id = params.id;
        const reason = body.reason;
        switch (verb) {
          case 'start':
            return json(200, await rollouts.start(actor, id, ip));
          case 'pause':
            return json(200, await rollouts.pause(actor, id, reason, ip));
          case 'resume':
            return json(200, await rollouts.resume(actor, id, ip));
          case 'promote':
            return json(200, await rollouts.promote(actor, id, reason, ip));
          case 'abort':
            return json(200, await rollouts.abort(actor, id, reason, ip));
          case 'rollback':
            return json(200, await rollouts.rollback(actor, id, reason, ip));
        }
      },
    });
  return [
    route({
      method: 'GET',
      path: '/api/v1/admin/rollouts',
      auth: 'viewer',
      scope: 'commands:read',
      tag: 'rollouts',
      summary: 'Rollouts, newest first, with their waves, device counts and gate verdicts',
      query: listRolloutsQuery,
      response: { status: 200, description: 'Rollouts', schema: rolloutPage },
      handler: async ({ query }) => json(200, await rollouts.list(query)),
    }),
    route({
      method: 'POST',
      path: '/api/v1/admin/rollouts',
      auth: 'operator',
      scope: 'commands:write',
      tag: 'rollouts',
      summary: 'Create a rollout of release B over the devices on release A (a draft, or started with "start": true)',
      body: createRolloutBody,
      response: { status: 201, description: 'The rollout', schema: rolloutView },
      errors: [404, 409],
      handler: async ({ actor, body, ip }) => json(201, await rollouts.create(actor, body, ip)),
    }),
    route({
      method: 'GET',
      path: '/api/v1/admin/rollouts/{id}',
      auth: 'viewer',
      scope: 'commands:read',
      tag: 'rollouts',
      summary: 'One rollout',
      params: rolloutParams,
      response: { status: 200, description: 'The rollout', schema: rolloutView },
      errors: [404],
      handler: async ({ params }) => json(200, await rollouts.get(params.id)),
    }),
    action('start', 'Start a draft: its devices are assigned to waves and the first wave installs'),
    action('pause', 'Pause: nothing more is sent until resumed'),
    action('resume', 'Resume a paused rollout (not one whose wave failed its gate: promote it instead)'),
    action('promote', 'Pass the current wave now (skips its soak, or overrides its failed gate)'),
    action('abort', 'Stop for good; devices keep what they have'),
    action('rollback', 'Send release A to every device that was sent B, and end the rollout'),
  ];
};

import { route, type Route } from '../core/route.js';

/** GET /metrics: Prometheus text format, for the scraper holding METRICS_TOKEN (the router checks it). */
export const metricsRoutes = (render: () => Promise<{ contentType: string; text: string }>): Route[] => [
  route({
    method: 'GET',
    path: '/metrics',
    auth: 'metrics',
    tag: 'system',
    summary: 'Prometheus metrics: requests, heartbeats, pushes, notifications, the fleet, the database pool',
    response: { status: 200, description: 'Prometheus text exposition format', contentType: 'text/plain' },
    handler: async () => {
      const { contentType, text } = await render();
      return { status: 200, text, contentType };
    },
  }),
];

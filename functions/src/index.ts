/**
 * Firebase exports only: each trigger wires the shared app (firebase/runtime.ts) to a Firebase event.
 * Options come from firebase/plan.ts, where each is explained; params and secrets from
 * firebase/params.ts. Hosting sends /api/v1/heartbeat to `heartbeat`, /api/v1/admin/** to `api`, and
 * the rest of /api/** to `device` (firebase.json).
 */
import { setGlobalOptions } from 'firebase-functions/v2';
import { onRequest } from 'firebase-functions/v2/https';
import { alertSweepTrigger, maintenanceTrigger } from './firebase/alerts.trigger.js';
import { commandDispatchTrigger } from './firebase/commands.trigger.js';
import { handleWith } from './firebase/http.js';
import { ALL_SECRETS, DB_CONNECTION_LIMIT, REGION, VPC_CONNECTOR } from './firebase/params.js';
import { FULL_SCALE_LIMIT, PLAN, type FunctionName } from './firebase/plan.js';
import { getRuntime } from './firebase/runtime.js';

// A VPC connector (empty: none) carries only private ranges, so Cloud SQL's private IP is reachable
// and everything else (FCM, webhooks) keeps the default route.
setGlobalOptions({ region: REGION, secrets: ALL_SECRETS, vpcConnector: VPC_CONNECTOR, vpcConnectorEgressSettings: 'PRIVATE_RANGES_ONLY' });

/** Under a small DB_CONNECTION_LIMIT every function runs on one instance (plan.ts, FULL_SCALE_LIMIT). */
const maxInstances = (fn: FunctionName) => DB_CONNECTION_LIMIT.lessThan(FULL_SCALE_LIMIT).thenElse(1, PLAN[fn].maxInstances);

const http = (fn: FunctionName, accepts: (path: string) => boolean) => {
  const p = PLAN[fn];
  return onRequest(
    {
      concurrency: p.concurrency,
      minInstances: p.minInstances,
      maxInstances: maxInstances(fn),
      memory: p.memory,
      cpu: p.cpu,
      timeoutSeconds: p.timeoutSeconds,
      invoker: 'public', // devices and the console authenticate with our own tokens
    },
    handleWith(fn, accepts),
  );
};

const isAdmin = (path: string) => path.startsWith('/api/v1/admin/');

export const heartbeat = http('heartbeat', (path) => path === '/api/v1/heartbeat');
export const device = http('device', (path) => !isAdmin(path) && path !== '/api/v1/heartbeat');
export const api = http('api', (path) => isAdmin(path) || path === '/api/v1/openapi.json' || path === '/healthz' || path === '/metrics');

const { dispatch: d } = PLAN;
export const dispatch = commandDispatchTrigger(
  { maxInstances: maxInstances('dispatch'), concurrency: d.concurrency, timeoutSeconds: d.timeoutSeconds },
  async () => {
    const { app } = await getRuntime('dispatch');
    return { dispatch: (batchId: string) => app.dispatch(batchId), logger: app.logger };
  },
);

export const tick = alertSweepTrigger({}, async () => (await getRuntime('tick')).app.tick());

export const maintenance = maintenanceTrigger({}, async () => (await getRuntime('maintenance')).app.maintenance());

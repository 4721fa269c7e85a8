/**
 * The API shapes as the console uses them, derived from the generated `api-types.generated.ts`
 * (`npm run api:types`, from the server's GET /api/v1/openapi.json): when a backend schema changes,
 * regenerating makes svelte-check point at every place the console must follow. The server names
 * no component schemas apart from `Error`, so each type is its route's success response.
 */
import type { components, operations } from './api-types.generated.js';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body of an operation's success (200 or 201) response. */
type Ok<K extends keyof operations> = operations[K]['responses'] extends infer R
  ? R extends { 200: infer S }
    ? Json<S>
    : R extends { 201: infer S }
      ? Json<S>
      : never
  : never;
type Item<T> = T extends { items: (infer I)[] } ? I : never;

export type ApiError = components['schemas']['Error'];

export type Admin = Ok<'getAdminMe'>['admin'];
export type Role = Admin['role'];
export const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/** A device as the live mirror shows it (the fleet view's row). */
export type DeviceDoc = Item<Ok<'getAdminFleet'>>;
export type FleetHealth = Ok<'getAdminFleetHealth'>;
export type AppState = DeviceDoc['app'];
export type DeviceStatus = DeviceDoc['status'];

/** Fleet counts: an SSE `summary` event or the Firestore `fleet/summary` document, which the OpenAPI document does not describe. */
export interface FleetSummary {
  total: number;
  online: number;
  offline: number;
  alerting: number;
  appDown: number;
  /** Retiring and retired devices, in none of the other counts. */
  retired: number;
  updatedAt: string;
}

export type DeviceView = Ok<'getAdminDevicesById'>;
export type Telemetry = Ok<'getAdminDevicesTelemetry'>;
export type TelemetryPoint = Telemetry['points'][number];

export type CommandView = Ok<'getAdminCommandsById'>;
export type CommandType = CommandView['type'];
export type CommandStatus = CommandView['status'];
export const COMMAND_TYPES = [
  'PING',
  'RELAUNCH_APP',
  'LOCK',
  'REBOOT',
  'CLEAR_APP_DATA',
  'INSTALL_APK',
  'SET_CONFIG',
  'WIPE',
  'RELEASE_OWNER',
] as const satisfies readonly CommandType[];

export type AlertView = Ok<'getAdminAlertsById'>;
export type AlertKind = AlertView['kind'];
export const ALERT_KINDS = ['offline', 'low_battery', 'app_down', 'app_frozen'] as const satisfies readonly AlertKind[];

export type TokenView = Item<Ok<'getAdminEnrollmentTokens'>>;
export type CreatedToken = Ok<'postAdminEnrollmentTokens'>;
export type AgentRelease = Ok<'getAdminAgentRelease'>;
export type Release = Ok<'getAdminReleasesById'>;
export type Rollout = Ok<'getAdminRolloutsById'>;
export type RolloutWave = Rollout['waves'][number];
export type CatalogPackage = Item<Ok<'getAdminPackages'>>;
export type AuditEntry = Item<Ok<'getAdminAudit'>>;
export type AuditAction = NonNullable<NonNullable<operations['getAdminAudit']['parameters']['query']>['action']>;
export type UserView = Item<Ok<'getAdminUsers'>>;
export type ConsoleConfig = Ok<'getConsoleConfig'>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// The lists above must name every value the server accepts: each fails to compile when one is missing.
type Missing<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
const commandTypesComplete: Missing<CommandType, (typeof COMMAND_TYPES)[number]> = true;
const alertKindsComplete: Missing<AlertKind, (typeof ALERT_KINDS)[number]> = true;
void commandTypesComplete;
void alertKindsComplete;

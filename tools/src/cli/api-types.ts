/**
 * The API shapes the CLI reads and sends, derived from api-types.generated.ts (`npm run api:types`, from
 * the server's GET /api/v1/openapi.json): when a backend schema changes, regenerating makes the typecheck
 * point at every place the CLI must follow. The server names no component schema apart from `Error`, so
 * each type is its route's request body or success response.
 */
import type { operations } from './api-types.generated.js';

type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body of an operation's success (200 or 201) response. */
type Ok<K extends keyof operations> = operations[K]['responses'] extends infer R
  ? R extends { 200: infer S }
    ? Json<S>
    : R extends { 201: infer S }
      ? Json<S>
      : never
  : never;
/** The JSON request body of an operation. */
type Body<K extends keyof operations> = operations[K] extends { requestBody?: infer B } ? Json<NonNullable<B>> : never;
type Item<T> = T extends { items: (infer I)[] } ? I : never;

export type Page<T> = { items: T[]; nextCursor: string | null };

export type LoginResponse = Ok<'postAdminLogin'>;

export type DeviceView = Ok<'getAdminDevicesById'>;
export type DeviceListItem = Item<Ok<'getAdminDevices'>>;
export type GroupList = Ok<'getAdminGroups'>;
export type RetireResult = Ok<'postAdminDevicesRetire'>;
export type ReplaceResult = Ok<'postAdminDevicesReplace'>;
export type BulkResult = Ok<'postAdminDevicesMove'>;
export type MoveDevicesBody = Body<'postAdminDevicesMove'>;
export type TagDevicesBody = Body<'postAdminDevicesTags'>;

export type CommandView = Item<Ok<'getAdminCommands'>>;
export type CommandDetail = Ok<'getAdminCommandsById'>;
export type CommandType = CommandView['type'];
export type CommandStatus = CommandView['status'];
export type CreateCommandBody = Body<'postAdminCommands'>;
export type CreatedCommands = Ok<'postAdminCommands'>;
/** A WIPE for more than one device answered 202: the request waits for another admin. */
export type PendingApproval = Json<operations['postAdminCommands']['responses'][202]>;
export type ApprovalView = Ok<'postAdminCommandApprovalsApprove'>;

export type ApiTokenView = Item<Ok<'getAdminApiTokens'>>;
export type CreatedApiToken = Ok<'postAdminApiTokens'>;

export type AlertView = Ok<'getAdminAlertsById'>;

export type ReleaseView = Ok<'getAdminReleasesById'>;
export type PackageView = Ok<'postAdminPackagesSigner'>;

export type RolloutView = Ok<'getAdminRolloutsById'>;
export type CreateRolloutBody = Body<'postAdminRollouts'>;

export type TokenView = Item<Ok<'getAdminEnrollmentTokens'>>;
export type CreateTokenBody = Body<'postAdminEnrollmentTokens'>;
export type CreatedToken = Ok<'postAdminEnrollmentTokens'>;

export type UserView = Item<Ok<'getAdminUsers'>>;
export type CreateUserBody = Body<'postAdminUsers'>;
export type CreatedUser = Ok<'postAdminUsers'>;

/**
 * The alert settings. The OpenAPI document describes the PUT body but not what GET and PUT answer
 * (their routes give no response schema), so the answer stays a plain JSON tree read by key.
 */
export type AlertSettingsView = { [key: string]: unknown };
export type AlertSettingsPatch = Body<'putAdminSettingsAlerts'>;

import type { AdminActor, DeviceActor, Role, TokenActor } from '../core/route.js';

/**
 * Every audited activity, named in the past tense, with its own typed details. Add a member here to
 * audit something new; the audit service accepts nothing else.
 */
export type AuditEvent =
  | { action: 'created_admin'; target: { type: 'admin'; id: string }; details: { email: string; role: Role; bootstrap: boolean } }
  | {
      action: 'updated_admin';
      target: { type: 'admin'; id: string };
      details: { email: string; changed: string[]; role?: Role | undefined; disabled?: boolean | undefined };
    }
  | { action: 'deleted_admin'; target: { type: 'admin'; id: string }; details: { email: string; role: Role } }
  | { action: 'logged_in'; target: { type: 'admin'; id: string }; details: Record<string, never> }
  | { action: 'logged_out'; target: { type: 'admin'; id: string }; details: Record<string, never> }
  | {
      action: 'locked_out_login';
      /** The e-mail that was tried (the account may not exist). */
      target: { type: 'login'; id: string };
      details: { email: string; failures: number; windowSec: number };
    }
  | {
      action: 'created_enrollment_token';
      target: { type: 'enrollment_token'; id: string };
      details: { label: string; group: string | null; expiresAt: string; maxUses: number };
    }
  | { action: 'revoked_enrollment_token'; target: { type: 'enrollment_token'; id: string }; details: { label: string } }
  | {
      action: 'sent_command';
      target: { type: 'command_batch'; id: string };
      /** Set when the batch is for one device, so the device's audit trail shows it. */
      deviceId?: string | undefined;
      details: {
        type: string;
        params: Record<string, unknown>;
        target: string;
        count: number;
        expiresAt: string;
        /** The WIPE approval request this batch was created from. */
        approvalId?: string | undefined;
      };
    }
  | {
      action: 'updated_device';
      target: { type: 'device'; id: string };
      details: { name?: string | null; group?: string | null; tags?: string[] };
    }
  | {
      /** Retired at once, or retiring until the device has taken its WIPE or RELEASE_OWNER (then again by the system, lifecycle "retired"). */
      action: 'retired_device';
      target: { type: 'device'; id: string };
      details: {
        lifecycle: 'retiring' | 'retired';
        wipe: boolean;
        /** Sent a RELEASE_OWNER first: the agent gave up Device Owner, the device kept its data. */
        releaseOwner?: boolean | undefined;
        wipeCommandId?: string | undefined;
        releaseOwnerCommandId?: string | undefined;
        replacedBy?: string | undefined;
        name: string | null;
        serial: string | null;
      };
    }
  | {
      /** A copy of what identified it, since the device row is gone; the audit log keeps every entry about it. */
      action: 'deleted_device';
      target: { type: 'device'; id: string };
      details: { name: string | null; model: string; serial: string | null; heartbeats: number; commands: number; alerts: number };
    }
  | {
      /** On the new device: it took over the old one's name, group and tags. */
      action: 'replaced_device';
      target: { type: 'device'; id: string };
      details: { replacedDeviceId: string; name: string | null; group: string | null; tags: string[] };
    }
  | {
      action: 'moved_devices';
      target: { type: 'device_batch'; id: string };
      details: { group: string | null; deviceIds: string[]; matched: number; changed: number };
    }
  | {
      action: 'tagged_devices';
      target: { type: 'device_batch'; id: string };
      details: { add: string[]; remove: string[]; deviceIds: string[]; matched: number; changed: number };
    }
  | { action: 'updated_alert_settings'; target: { type: 'settings'; id: 'alerts' }; details: { changed: string[] } }
  | { action: 'sent_test_notification'; target: { type: 'settings'; id: 'alerts' }; details: { channels: string[] } }
  | { action: 'acknowledged_alert'; target: { type: 'alert'; id: string }; deviceId?: string | undefined; details: { kind: string } }
  | {
      action: 'acknowledged_alerts';
      target: { type: 'alert_batch'; id: string };
      details: { count: number; ids?: string[] | undefined; filter?: Record<string, string> | undefined };
    }
  | {
      action: 'updated_alert_hours';
      target: { type: 'group'; id: string };
      details: { timeZone: string | null; weekly: Record<string, [number, number][]> | null };
    }
  | {
      action: 'created_maintenance_window' | 'deleted_maintenance_window';
      target: { type: 'group'; id: string };
      details: { windowId: string; startsAt: string; endsAt: string; reason: string };
    }
  | { action: 'snoozed_device'; target: { type: 'device'; id: string }; deviceId: string; details: { until: string; reason: string } }
  | { action: 'unsnoozed_device'; target: { type: 'device'; id: string }; deviceId: string; details: Record<string, never> }
  | {
      action: 'escalated_alert';
      target: { type: 'alert'; id: string };
      deviceId?: string | undefined;
      details: { kind: string; reason: string; steps: string[] };
    }
  | {
      /** Agent releases registered before the catalog (kept for the entries already written). */
      action: 'registered_apk_release';
      target: { type: 'apk_release'; id: string };
      details: { versionCode: number; versionName: string; sha256: string; uploaded: boolean };
    }
  | {
      action: 'uploaded_release';
      target: { type: 'release'; id: string };
      details: {
        packageName: string;
        versionCode: number;
        versionName: string;
        sha256: string;
        signerSha256: string;
        /** The package's first release: its signer is now pinned. */
        pinnedSigner: boolean;
        downgrade: boolean;
        /** Registered by https URL: where it was downloaded from (no credentials, query or fragment). */
        sourceUrl?: string;
      };
    }
  | {
      action: 'marked_release_bad';
      target: { type: 'release'; id: string };
      details: { packageName: string; versionCode: number; reason: string };
    }
  | { action: 'rotated_signer'; target: { type: 'package'; id: string }; details: { from: string; to: string; reason: string } }
  | {
      /** A device's final report on a command (a WIPE that succeeded, a REBOOT it rejected). */
      action: 'finished_command';
      target: { type: 'command'; id: string };
      deviceId: string;
      details: {
        type: string;
        status: 'succeeded' | 'failed' | 'rejected' | 'cancelled';
        error?: string | undefined;
        /** The report came after the command was cancelled: kept, the status stays cancelled. */
        afterCancel?: boolean | undefined;
      };
    }
  | {
      action: 'created_api_token';
      target: { type: 'api_token'; id: string };
      details: { name: string; scopes: string[]; expiresAt: string };
    }
  | { action: 'revoked_api_token'; target: { type: 'api_token'; id: string }; details: { name: string } }
  | {
      action: 'cancelled_command';
      /** One command, or every open command of a batch. */
      target: { type: 'command' | 'command_batch'; id: string };
      deviceId?: string | undefined;
      details: { type: string; count: number };
    }
  | {
      action: 'requested_command_approval';
      target: { type: 'command_approval'; id: string };
      details: { type: string; target: string; count: number; expiresAt: string };
    }
  | {
      action: 'approved_command';
      target: { type: 'command_approval'; id: string };
      details: { type: string; target: string; count: number; batchId: string; requestedBy: string };
    }
  | {
      action: 'rejected_command';
      target: { type: 'command_approval'; id: string };
      details: { type: string; target: string; count: number; requestedBy: string; reason?: string | undefined };
    }
  | {
      action: 'expired_command_approval';
      target: { type: 'command_approval'; id: string };
      details: { type: string; target: string; count: number; requestedBy: string };
    }
  | {
      action: 'enrolled_device';
      target: { type: 'device'; id: string };
      details: { enrollmentTokenId: string; model: string; manufacturer: string; serial: string | null; group: string | null };
    }
  | {
      /**
       * Authentication failures of one scope from one address in one minute (written by the tick from
       * the auth_failures buckets, flushAuthFailures - never per attempt); `ip` holds the address.
       */
      action: 'failed_authentication';
      target: { type: 'auth_scope'; id: string };
      details: { scope: string; failures: number; minute: string };
    }
  | {
      /** An operator created, started, paused, resumed, promoted, aborted or rolled back a rollout; or the engine decided a gate. */
      action: 'changed_rollout';
      target: { type: 'rollout'; id: string };
      details: {
        change: RolloutChange;
        name: string;
        from?: string | undefined;
        to?: string | undefined;
        wave?: number | undefined;
        reason?: string | undefined;
      };
    }
  | {
      action: 'saved_policy' | 'removed_policy';
      /** The fleet default or a group's policy ('fleet', 'g:<group id>'), or the device whose override it is. */
      target: { type: 'policy'; id: string } | { type: 'device'; id: string };
      /** The new version and what changed (docs/policies.md). */
      details: {
        scope: 'fleet' | 'group' | 'device';
        version: number;
        diff: { path: string; op: string; from?: unknown; to?: unknown }[];
        /** Saved by a staged rollout that completed or was rolled back (docs/rollouts.md). */
        rollout?: string;
      };
    };

/** What happened to a rollout (audited as `changed_rollout`). */
export type RolloutChange =
  'created' | 'started' | 'paused' | 'resumed' | 'promoted' | 'aborted' | 'rolled_back' | 'gate_passed' | 'gate_failed' | 'completed';

export type AuditAction = AuditEvent['action'];

export const AUDIT_ACTIONS = [
  'created_admin',
  'updated_admin',
  'deleted_admin',
  'logged_in',
  'logged_out',
  'locked_out_login',
  'created_enrollment_token',
  'revoked_enrollment_token',
  'enrolled_device',
  'sent_command',
  'finished_command',
  'updated_device',
  'retired_device',
  'deleted_device',
  'replaced_device',
  'moved_devices',
  'tagged_devices',
  'updated_alert_settings',
  'sent_test_notification',
  'acknowledged_alert',
  'acknowledged_alerts',
  'updated_alert_hours',
  'created_maintenance_window',
  'deleted_maintenance_window',
  'snoozed_device',
  'unsnoozed_device',
  'escalated_alert',
  'registered_apk_release',
  'uploaded_release',
  'marked_release_bad',
  'rotated_signer',
  'failed_authentication',
  'created_api_token',
  'revoked_api_token',
  'cancelled_command',
  'requested_command_approval',
  'approved_command',
  'rejected_command',
  'expired_command_approval',
  'changed_rollout',
  'saved_policy',
  'removed_policy',
] as const satisfies readonly AuditAction[];

/** Who did it: an admin, a device (its own enrollment), an API token (under its name), or the system itself. */
export type AuditActor = AdminActor | DeviceActor | TokenActor | { kind: 'system'; name: string };

/** What the sweep raises alerts for; the app kinds can heal themselves (relaunch, clear data, reboot). */
export const ALERT_KINDS = ['offline', 'low_battery', 'app_down', 'app_frozen'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const SELF_HEALING_KINDS: readonly AlertKind[] = ['app_down', 'app_frozen'];
/** Alerts about the fleet rather than a device; they go straight to the channels (AlertService.raiseOperatorAlert). */
export const OPERATOR_ALERT_KINDS = ['rollout_paused'] as const;
export type OperatorAlertKind = (typeof OPERATOR_ALERT_KINDS)[number];

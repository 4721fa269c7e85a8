package dev.fleetmdm.agent

import android.app.admin.DevicePolicyManager
import android.app.admin.SystemUpdatePolicy
import android.os.Build
import android.provider.Settings
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.policy.PolicyPort

/**
 * The Device Owner's side of a server policy (protocol v2, docs/policies.md): the core's
 * PolicyApplier checks API levels and reports; this sets one item through DevicePolicyManager, and
 * throws with the reason when Android refuses. Setting what is already set is harmless, so applying
 * a document again is idempotent. Installs (kioskApp, agentRelease) and the heartbeat interval go to
 * the agent's own code through [install] and [setHeartbeatIntervalSec].
 */
class AndroidPolicyPort(
    private val owner: DeviceOwner,
    /** The kiosk app's package, whose runtime permissions kioskPermissions sets. */
    private val kioskPackage: String?,
    private val install: (JsonObject) -> Unit,
    private val setHeartbeatIntervalSec: (Int) -> Unit
) : PolicyPort {
    override val sdkInt: Int = Build.VERSION.SDK_INT

    override fun apply(item: String, value: JsonElement) {
        val dpm = owner.dpm
        val admin = owner.admin
        if (!owner.isDeviceOwner()) throw IllegalStateException("the agent is not the Device Owner")
        when (item) {
            "kioskApp", "agentRelease" -> install(value.asJsonObject)
            "heartbeatIntervalSec" -> setHeartbeatIntervalSec(value.asInt)
            "lockTaskFeatures" -> if (Build.VERSION.SDK_INT >= 28) {
                var flags = 0
                for (f in value.asJsonArray) flags = flags or (LOCK_TASK_FEATURES[f.asString] ?: 0)
                dpm.setLockTaskFeatures(admin, flags)
            }
            "keyguardDisabled" -> if (!dpm.setKeyguardDisabled(admin, value.asBoolean)) throw IllegalStateException("refused (a secure lock screen is set?)")
            "statusBarDisabled" -> if (!dpm.setStatusBarDisabled(admin, value.asBoolean)) throw IllegalStateException("refused (a secure lock screen is set?)")
            "userRestrictions" -> {
                val wanted = value.asJsonArray.map { it.asString }.toSet()
                // the ones the policy language knows and does not list are cleared
                for (r in USER_RESTRICTIONS) if (r in wanted) dpm.addUserRestriction(admin, r) else dpm.clearUserRestriction(admin, r)
            }
            "kioskPermissions" -> {
                val pkg = kioskPackage ?: throw IllegalStateException("no kiosk app to grant permissions to")
                for ((permission, grant) in value.asJsonObject.entrySet()) {
                    val state = if (grant.asString == "grant") DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED else DevicePolicyManager.PERMISSION_GRANT_STATE_DENIED
                    if (!dpm.setPermissionGrantState(admin, pkg, permission, state)) throw IllegalStateException("$permission refused (not a runtime permission $pkg requests?)")
                }
            }
            "systemUpdate" -> {
                val o = value.asJsonObject
                val policy = when (o.get("type").asString) {
                    "automatic" -> SystemUpdatePolicy.createAutomaticInstallPolicy()
                    "postponed" -> SystemUpdatePolicy.createPostponeInstallPolicy()
                    else -> SystemUpdatePolicy.createWindowedInstallPolicy(o.get("startMinute").asInt, o.get("endMinute").asInt)
                }
                dpm.setSystemUpdatePolicy(admin, policy)
            }
            "screenTimeoutSec" -> if (Build.VERSION.SDK_INT >= 28) {
                dpm.setSystemSetting(admin, Settings.System.SCREEN_OFF_TIMEOUT, (value.asInt * 1000).toString())
            }
            "timeZone" -> if (Build.VERSION.SDK_INT >= 28) {
                if (!dpm.setTimeZone(admin, value.asString)) throw IllegalStateException("refused (automatic time zone is on?)")
            }
            else -> throw UnsupportedOperationException("unknown item $item")
        }
    }

    private companion object {
        val LOCK_TASK_FEATURES = mapOf(
            "SYSTEM_INFO" to DevicePolicyManager.LOCK_TASK_FEATURE_SYSTEM_INFO,
            "NOTIFICATIONS" to DevicePolicyManager.LOCK_TASK_FEATURE_NOTIFICATIONS,
            "HOME" to DevicePolicyManager.LOCK_TASK_FEATURE_HOME,
            "OVERVIEW" to DevicePolicyManager.LOCK_TASK_FEATURE_OVERVIEW,
            "GLOBAL_ACTIONS" to DevicePolicyManager.LOCK_TASK_FEATURE_GLOBAL_ACTIONS,
            "KEYGUARD" to DevicePolicyManager.LOCK_TASK_FEATURE_KEYGUARD,
            "BLOCK_ACTIVITY_START_IN_TASK" to 64 // LOCK_TASK_FEATURE_BLOCK_ACTIVITY_START_IN_TASK (API 30)
        )
        val USER_RESTRICTIONS = listOf(
            "no_safe_boot", "no_factory_reset", "no_usb_file_transfer", "no_adjust_volume", "no_config_wifi",
            "no_install_unknown_sources", "no_add_user", "no_debugging_features", "no_config_bluetooth",
            "no_mount_physical_media", "no_config_date_time", "no_uninstall_apps", "no_modify_accounts",
            "no_config_location", "no_outgoing_calls", "no_sms"
        )
    }
}

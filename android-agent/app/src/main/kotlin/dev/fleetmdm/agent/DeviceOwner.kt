package dev.fleetmdm.agent

import android.Manifest
import android.app.admin.DevicePolicyManager
import android.app.admin.SystemUpdatePolicy
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build
import dev.fleetmdm.agent.core.kiosk.Compliance
import dev.fleetmdm.agent.core.kiosk.KioskPolicy
import dev.fleetmdm.agent.core.kiosk.KioskPolicyPlanner
import dev.fleetmdm.agent.core.kiosk.PolicyItem

/**
 * The Device Owner's policies. What to apply is the core's plan ([KioskPolicyPlanner]) of the
 * [KioskPolicy]; this applies each item through DevicePolicyManager, idempotently, and returns how
 * each went (applied / failed with the reason / unsupported on this API level).
 */
class DeviceOwner(private val context: Context) {
    val dpm: DevicePolicyManager = context.getSystemService(DevicePolicyManager::class.java)
    val admin = ComponentName(context, AdminReceiver::class.java)

    fun isDeviceOwner(): Boolean = dpm.isDeviceOwnerApp(context.packageName)

    /** Applies the kiosk policy for [kioskPackage] (null: the agent's home screen alone is locked). */
    fun applyKioskPolicy(policy: KioskPolicy, kioskPackage: String?, maintenance: Boolean = false): List<Compliance> {
        if (!isDeviceOwner()) return emptyList()
        val items = KioskPolicyPlanner.plan(policy, context.packageName, kioskPackage)
        val results = ArrayList<Compliance>(KioskPolicyPlanner.unsupported(items, Build.VERSION.SDK_INT))
        for (item in items) {
            if (item.minSdk > Build.VERSION.SDK_INT) continue
            val error = try {
                apply(item, maintenance)
            } catch (e: RuntimeException) {
                "${e.javaClass.simpleName}: ${e.message}"
            }
            results.add(Compliance(item, if (error == null) Compliance.Status.APPLIED else Compliance.Status.FAILED, error))
        }
        return results
    }

    /** One item; null when applied, else why not. */
    private fun apply(item: PolicyItem, maintenance: Boolean): String? {
        when (item.kind) {
            PolicyItem.Kind.LOCK_TASK_PACKAGES -> {
                // In maintenance the list is emptied, which ends lock task for every task (the kiosk app's too).
                val packages = if (maintenance) emptyList() else item.value.orEmpty().split(',').filter { it.isNotEmpty() }
                dpm.setLockTaskPackages(admin, packages.toTypedArray())
            }
            PolicyItem.Kind.LOCK_TASK_FEATURES -> if (Build.VERSION.SDK_INT >= 28) {
                // Home and the global actions stay off; the status bar shows system info only.
                dpm.setLockTaskFeatures(admin, DevicePolicyManager.LOCK_TASK_FEATURE_SYSTEM_INFO)
            }
            PolicyItem.Kind.HOME_ACTIVITY -> {
                if (item.value == "true") {
                    val home = IntentFilter(Intent.ACTION_MAIN).apply {
                        addCategory(Intent.CATEGORY_HOME)
                        addCategory(Intent.CATEGORY_DEFAULT)
                    }
                    dpm.addPersistentPreferredActivity(admin, home, ComponentName(context, HomeActivity::class.java))
                } else {
                    dpm.clearPackagePersistentPreferredActivities(admin, context.packageName)
                }
            }
            PolicyItem.Kind.KEYGUARD_DISABLED -> {
                // False when a secure lock screen is set: the keyguard then stays.
                if (!dpm.setKeyguardDisabled(admin, item.value == "true" && !maintenance)) return "refused (a secure lock screen is set?)"
            }
            PolicyItem.Kind.STATUS_BAR_DISABLED -> {
                if (!dpm.setStatusBarDisabled(admin, item.value == "true" && !maintenance)) return "refused (a secure lock screen is set?)"
            }
            PolicyItem.Kind.USER_RESTRICTION -> {
                if (item.value == "true") dpm.addUserRestriction(admin, item.key) else dpm.clearUserRestriction(admin, item.key)
            }
            PolicyItem.Kind.SYSTEM_UPDATE_POLICY -> {
                val window = item.value?.split('-')?.mapNotNull { it.toIntOrNull() }
                val policy = if (window != null && window.size == 2) SystemUpdatePolicy.createWindowedInstallPolicy(window[0], window[1]) else null
                dpm.setSystemUpdatePolicy(admin, policy)
            }
            PolicyItem.Kind.PERMISSION_GRANT -> {
                val pkg = item.value ?: return "no package"
                if (!installed(pkg)) return "$pkg is not installed"
                if (!dpm.setPermissionGrantState(admin, pkg, item.key, DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED)) {
                    return "refused (not a runtime permission $pkg requests?)"
                }
            }
        }
        return null
    }

    private fun installed(pkg: String): Boolean = try {
        context.packageManager.getPackageInfo(pkg, 0)
        true
    } catch (e: android.content.pm.PackageManager.NameNotFoundException) {
        false
    }

    /**
     * The Device Owner grants itself the runtime permissions it uses: the foreground service's
     * notification (Android 13+) and READ_PHONE_STATE, with which a Device Owner may read the
     * serial number (Build.getSerial) on Android 8-11 and beyond.
     */
    fun grantOwnPermissions() {
        if (!isDeviceOwner()) return
        val permissions = ArrayList<String>()
        permissions.add(Manifest.permission.READ_PHONE_STATE)
        if (Build.VERSION.SDK_INT >= 33) permissions.add(Manifest.permission.POST_NOTIFICATIONS)
        for (p in permissions) {
            try {
                dpm.setPermissionGrantState(admin, context.packageName, p, DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED)
            } catch (e: RuntimeException) {
                AgentRuntime.get(context).log.warn("could not grant the agent a permission", "permission" to p, "error" to e.message)
            }
        }
    }

    /**
     * Stops a (frozen) app's process for a real restart: hiding a package stops it; unhiding makes it
     * launchable again. Null on success, else why not.
     */
    fun stopByHiding(packageName: String): String? {
        if (!isDeviceOwner()) return "the agent is not Device Owner"
        if (!dpm.setApplicationHidden(admin, packageName, true)) return "hiding $packageName was refused"
        // Never leave the kiosk app hidden: unhiding is tried again before giving up.
        for (attempt in 1..3) {
            try {
                if (dpm.setApplicationHidden(admin, packageName, false)) return null
            } catch (e: RuntimeException) {
                if (attempt == 3) return "unhiding $packageName failed: ${e.message}"
            }
            Thread.sleep(200L * attempt)
        }
        return "unhiding $packageName was refused"
    }
}

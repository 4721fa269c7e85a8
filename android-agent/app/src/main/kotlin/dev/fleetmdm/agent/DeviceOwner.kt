package dev.fleetmdm.agent

import android.Manifest
import android.app.admin.DevicePolicyManager
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build

/** The Device Owner's policies the agent sets: lock task for the kiosk app and the agent as home. */
class DeviceOwner(private val context: Context) {
    val dpm: DevicePolicyManager = context.getSystemService(DevicePolicyManager::class.java)
    val admin = ComponentName(context, AdminReceiver::class.java)

    fun isDeviceOwner(): Boolean = dpm.isDeviceOwnerApp(context.packageName)

    /**
     * Lets [kioskPackage] (and the agent) run in lock task mode and makes the agent's home screen
     * the persistent home, so a kiosk app that exits is started again at once. Null clears both.
     */
    fun applyKioskPolicy(kioskPackage: String?) {
        if (!isDeviceOwner()) return
        if (kioskPackage == null) {
            dpm.setLockTaskPackages(admin, arrayOf(context.packageName))
            dpm.clearPackagePersistentPreferredActivities(admin, context.packageName)
            return
        }
        dpm.setLockTaskPackages(admin, arrayOf(kioskPackage, context.packageName))
        if (Build.VERSION.SDK_INT >= 28) {
            // Home and the global actions stay off; the status bar shows system info only.
            dpm.setLockTaskFeatures(admin, DevicePolicyManager.LOCK_TASK_FEATURE_SYSTEM_INFO)
        }
        val home = IntentFilter(Intent.ACTION_MAIN).apply {
            addCategory(Intent.CATEGORY_HOME)
            addCategory(Intent.CATEGORY_DEFAULT)
        }
        dpm.addPersistentPreferredActivity(admin, home, ComponentName(context, HomeActivity::class.java))
    }

    /** The Device Owner grants itself the notification permission its foreground service needs. */
    fun grantOwnPermissions() {
        if (!isDeviceOwner() || Build.VERSION.SDK_INT < 33) return
        dpm.setPermissionGrantState(
            admin, context.packageName, Manifest.permission.POST_NOTIFICATIONS, DevicePolicyManager.PERMISSION_GRANT_STATE_GRANTED
        )
    }
}

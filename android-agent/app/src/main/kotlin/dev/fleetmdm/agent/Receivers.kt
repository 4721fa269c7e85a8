package dev.fleetmdm.agent

import android.app.Activity
import android.app.admin.DeviceAdminReceiver
import android.app.admin.DeviceAdminService
import android.app.admin.DevicePolicyManager
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.PersistableBundle
import android.os.Process
import dev.fleetmdm.agent.core.security.EnrollGate
import dev.fleetmdm.agent.core.security.EnrollSource

/** The Device Owner component (`dev.fleetmdm.agent/.AdminReceiver`). */
class AdminReceiver : DeviceAdminReceiver() {
    override fun onEnabled(context: Context, intent: Intent) {
        AgentRuntime.get(context).log.info("device admin enabled")
    }

    /** Legacy QR/NFC provisioning (before the policy compliance screen) ends here with the admin extras. */
    override fun onProfileProvisioningComplete(context: Context, intent: Intent) {
        Enrollment.request(context, adminExtras(intent), EnrollSource.PROVISIONING)
    }

    companion object {
        fun adminExtras(intent: Intent): PersistableBundle? =
            if (Build.VERSION.SDK_INT >= 33) {
                intent.getParcelableExtra(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE, PersistableBundle::class.java)
            } else {
                @Suppress("DEPRECATION")
                intent.getParcelableExtra<PersistableBundle>(DevicePolicyManager.EXTRA_PROVISIONING_ADMIN_EXTRAS_BUNDLE)
            }
    }
}

/** Bound by the system while the agent is Device Owner, which keeps its process running. */
class AgentAdminService : DeviceAdminService()

/** Where Android 14+ names the broadcaster (only when it shared its identity); null otherwise. */
private fun BroadcastReceiver.senderUid(): Int? {
    if (Build.VERSION.SDK_INT < 34) return null
    val uid = sentFromUid
    return if (uid == Process.INVALID_UID) null else uid
}

/** For `am broadcast`, which waits for the result and prints `Broadcast completed: result=N, data="..."`. */
private fun BroadcastReceiver.answer(ok: Boolean, data: String) {
    if (!isOrderedBroadcast) return
    setResult(if (ok) Activity.RESULT_OK else Activity.RESULT_CANCELED, data, null)
}

/**
 * The ADB script's `am broadcast -a dev.fleetmdm.agent.action.ENROLL -n dev.fleetmdm.agent/.EnrollReceiver
 * --es server_url <url> --es enrollment_token <token> [--es kiosk_package <pkg>] [--ez allow_cleartext true]`.
 * Declared with `android:permission="android.permission.DUMP"`: only the shell, root and the system
 * hold it, so no installed app can point an unenrolled Device Owner at its own server. The result
 * is `-1` (RESULT_OK) with data `enrollment accepted`, else `0` with the reason.
 */
class EnrollReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != ACTION) return
        val refused = Enrollment.request(context, intent.extras, EnrollSource.SHELL, senderUid())
        answer(refused == null, if (refused == null) "enrollment accepted" else "enrollment refused: $refused")
    }

    companion object {
        const val ACTION = "dev.fleetmdm.agent.action.ENROLL"
    }
}

/**
 * The operator's way out of the kiosk lock, over USB only (DUMP-protected like enrollment):
 * `adb shell am broadcast -a dev.fleetmdm.agent.action.MAINTENANCE -n dev.fleetmdm.agent/.MaintenanceReceiver --ei minutes 30`
 * lifts lock task, keyguard and status bar for that long (at most 240 minutes; `--ei minutes 0` ends it
 * at once); a reboot ends it too. Recorded as a `kiosk.maintenance` event.
 */
class MaintenanceReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != ACTION) return
        val uid = senderUid()
        val runtime = AgentRuntime.get(context)
        if (uid != null && uid != EnrollGate.SHELL_UID && uid != EnrollGate.ROOT_UID && uid != EnrollGate.SYSTEM_UID) {
            answer(false, "refused: sender is not the shell")
            return
        }
        val minutes = intent.getIntExtra(EXTRA_MINUTES, 30).coerceIn(0, 240)
        runtime.setMaintenance(minutes)
        answer(true, if (minutes == 0) "kiosk locked again" else "kiosk unlocked for $minutes minutes")
    }

    companion object {
        const val ACTION = "dev.fleetmdm.agent.action.MAINTENANCE"
        const val EXTRA_MINUTES = "minutes"
    }
}

/** After a boot or an agent update: the service (and with it the heartbeat alarm) again, and an event for the next heartbeat. */
class BootReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val runtime = AgentRuntime.get(context)
        when (intent.action) {
            Intent.ACTION_BOOT_COMPLETED -> runtime.events.add("device.boot")
            Intent.ACTION_MY_PACKAGE_REPLACED -> runtime.events.add("agent.updated", mapOf("agentVersion" to BuildConfig.VERSION_NAME, "versionCode" to BuildConfig.VERSION_CODE))
            else -> return
        }
        if (runtime.agent.isEnrolled()) AgentService.start(context)
        else if (Enrollment.pending(context) != null) EnrollWorker.enqueue(context)
    }
}

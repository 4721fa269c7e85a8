package dev.fleetmdm.agent

import android.app.admin.DeviceAdminReceiver
import android.app.admin.DeviceAdminService
import android.app.admin.DevicePolicyManager
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.PersistableBundle

/** The Device Owner component (`dev.fleetmdm.agent/.AdminReceiver`). */
class AdminReceiver : DeviceAdminReceiver() {
    override fun onEnabled(context: Context, intent: Intent) {
        AgentRuntime.get(context).log.info("device admin enabled")
    }

    /** Legacy QR/NFC provisioning (before the policy compliance screen) ends here with the admin extras. */
    override fun onProfileProvisioningComplete(context: Context, intent: Intent) {
        Enrollment.request(context, adminExtras(intent), "provisioning")
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

/** The ADB script's `am broadcast ... --es server_url <url> --es enrollment_token <token>`. */
class EnrollReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != ACTION) return
        Enrollment.request(context, intent.extras, "adb")
    }

    companion object {
        const val ACTION = "dev.fleetmdm.agent.action.ENROLL"
    }
}

/** After a boot or an agent update: the service again, and a boot event for the next heartbeat. */
class BootReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val runtime = AgentRuntime.get(context)
        when (intent.action) {
            Intent.ACTION_BOOT_COMPLETED -> runtime.events.add("device.boot")
            Intent.ACTION_MY_PACKAGE_REPLACED -> runtime.events.add("agent.updated", mapOf("agentVersion" to BuildConfig.VERSION_NAME))
            else -> return
        }
        if (runtime.agent.isEnrolled()) AgentService.start(context)
        else if (Enrollment.pending(context) != null) EnrollWorker.enqueue(context)
    }
}

package dev.fleetmdm.agent

import android.app.ActivityOptions
import android.content.Context
import android.content.Intent
import android.os.Build
import dev.fleetmdm.agent.core.agent.SettingsStore
import dev.fleetmdm.agent.core.command.AgentControl
import dev.fleetmdm.agent.core.command.DevicePower
import dev.fleetmdm.agent.core.command.KioskApps
import dev.fleetmdm.agent.core.kiosk.KioskLauncher
import dev.fleetmdm.agent.core.log.Logger
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/** REBOOT, LOCK and WIPE through DevicePolicyManager (the agent must be Device Owner). */
class AndroidDevicePower(private val context: Context, private val owner: DeviceOwner, private val log: Logger) : DevicePower {
    override fun reboot() {
        requireOwner()
        log.warn("rebooting on command")
        owner.dpm.reboot(owner.admin)
    }

    override fun lockScreen() {
        owner.dpm.lockNow()
    }

    override fun wipe() {
        requireOwner()
        log.warn("wiping the device on command")
        if (Build.VERSION.SDK_INT >= 34) {
            // wipeData() from a Device Owner on the system user throws on Android 14; wipeDevice is the API for it.
            owner.dpm.wipeDevice(0)
        } else {
            owner.dpm.wipeData(0)
        }
    }

    private fun requireOwner() {
        check(owner.isDeviceOwner()) { "the agent is not Device Owner" }
    }
}

/** RELAUNCH_APP and CLEAR_APP_DATA, and the watchdog's launches. */
class AndroidKioskApps(
    private val context: Context,
    private val owner: DeviceOwner,
    private val log: Logger
) : KioskApps, KioskLauncher {

    override fun relaunch(packageName: String) {
        check(launch(packageName)) { "$packageName has no launcher activity" }
    }

    /** Starts the app in its own task, in lock task mode where the app is allowed it (Android 9+). */
    override fun launch(packageName: String): Boolean {
        val intent = context.packageManager.getLaunchIntentForPackage(packageName) ?: return false
        intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TASK)
        val options = ActivityOptions.makeBasic()
        if (Build.VERSION.SDK_INT >= 28 && owner.isDeviceOwner() && owner.dpm.isLockTaskPermitted(packageName)) {
            options.setLockTaskEnabled(true)
        }
        return try {
            context.startActivity(intent, options.toBundle())
            true
        } catch (e: RuntimeException) {
            log.error("could not start the kiosk app", e, "package" to packageName)
            false
        }
    }

    override fun clearData(packageName: String): String? {
        if (Build.VERSION.SDK_INT < 28) return "clearing another app's data needs Android 9"
        if (!owner.isDeviceOwner()) return "the agent is not Device Owner"
        val done = CountDownLatch(1)
        var ok = false
        val executor = Executors.newSingleThreadExecutor()
        try {
            owner.dpm.clearApplicationUserData(owner.admin, packageName, executor) { _, succeeded ->
                ok = succeeded
                done.countDown()
            }
            if (!done.await(60, TimeUnit.SECONDS)) return "no answer from the system in 60 s"
        } finally {
            executor.shutdown()
        }
        return if (ok) null else "the system refused"
    }
}

/** The agent's controls, plus the Device Owner policy a new kiosk package needs. */
class KioskAwareControl(
    private val inner: AgentControl,
    private val owner: DeviceOwner,
    private val settings: SettingsStore
) : AgentControl by inner {
    override fun setKioskPackage(packageName: String) {
        inner.setKioskPackage(packageName)
        owner.applyKioskPolicy(packageName)
    }

    override fun kioskPackage(): String? = settings.kioskPackage
}

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

/**
 * REBOOT, LOCK, WIPE and RELEASE_OWNER through DevicePolicyManager (the agent must be Device Owner). Each throws
 * when the platform refuses, so the command reports `failed` with the reason; returning means the
 * call was accepted.
 */
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
            @Suppress("DEPRECATION")
            owner.dpm.wipeData(0)
        }
    }

    override fun releaseOwner() {
        requireOwner()
        log.warn("giving up Device Owner on command")
        // An empty lock task list ends lock task for every task, so nobody is left locked in; the agent
        // stops being the persistent home screen; then Device Owner goes (its policies go with it).
        owner.dpm.setLockTaskPackages(owner.admin, arrayOf<String>())
        owner.dpm.clearPackagePersistentPreferredActivities(owner.admin, context.packageName)
        @Suppress("DEPRECATION")
        owner.dpm.clearDeviceOwnerApp(context.packageName)
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

    /** RELAUNCH_APP: a real restart (stop the process, then start), so a hung app does not just show an ANR dialog. */
    override fun relaunch(packageName: String): String? = forceRestart(packageName)

    /**
     * Brings the app to the front in its own task, in lock task mode where the app is allowed it
     * (Android 9+). No FLAG_ACTIVITY_CLEAR_TASK: an app that runs keeps its task and state (a Unity
     * scene is not restarted); one that does not run is started.
     */
    override fun launch(packageName: String): Boolean = start(packageName, fresh = false)

    override fun forceRestart(packageName: String): String? {
        val stopped = owner.stopByHiding(packageName)
        if (stopped != null) log.warn("could not stop the kiosk app for a restart", "package" to packageName, "error" to stopped)
        if (!start(packageName, fresh = true)) return stopped ?: "$packageName has no launcher activity or could not be started"
        return stopped
    }

    private fun start(packageName: String, fresh: Boolean): Boolean {
        val intent = context.packageManager.getLaunchIntentForPackage(packageName) ?: return false
        intent.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_RESET_TASK_IF_NEEDED)
        if (fresh) intent.addFlags(Intent.FLAG_ACTIVITY_CLEAR_TASK)
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
    private val runtime: AgentRuntime,
    private val settings: SettingsStore
) : AgentControl by inner {
    override fun setKioskPackage(packageName: String) {
        inner.setKioskPackage(packageName)
        runtime.applyKioskPolicy("set_config")
    }

    override fun kioskPackage(): String? = settings.kioskPackage
}

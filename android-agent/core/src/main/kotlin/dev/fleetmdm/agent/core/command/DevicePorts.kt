package dev.fleetmdm.agent.core.command

import java.io.File

/*
 * The narrow device operations the protocol's commands need. The Android app implements them with
 * DevicePolicyManager, PackageInstaller and the activity manager; tests implement them with fakes.
 */

interface DevicePower {
    /** Reboots now (DevicePolicyManager.reboot); does not return on a real device. */
    fun reboot()

    fun lockScreen()

    /** Factory reset (DevicePolicyManager.wipeDevice / wipeData); does not return on a real device. */
    fun wipe()
}

interface KioskApps {
    /** Brings [packageName] to the foreground (in lock task mode where allowed). */
    fun relaunch(packageName: String)

    /** Clears the package's data; returns null on success or the reason it failed. */
    fun clearData(packageName: String): String?
}

/** What installing a downloaded, hash-checked APK came to. */
sealed class InstallOutcome {
    class Installed(val packageName: String, val versionName: String?, val versionCode: Long) : InstallOutcome()

    class Failed(val reason: String) : InstallOutcome()

    /**
     * The APK replaces the agent itself: installing it ends this process, so [install] is run after
     * the result has been reported.
     */
    class ReplacesAgent(val install: () -> Unit, val description: String) : InstallOutcome()
}

interface ApkInstaller {
    /** Installs [apk] silently (the agent is Device Owner); [versionCode] is what the command promised. */
    fun install(apk: File, versionCode: Long): InstallOutcome
}

/** Settings and scheduling that commands change. */
interface AgentControl {
    fun heartbeatNow()

    fun setHeartbeatIntervalSec(seconds: Int)

    fun setKioskPackage(packageName: String)

    fun kioskPackage(): String?
}

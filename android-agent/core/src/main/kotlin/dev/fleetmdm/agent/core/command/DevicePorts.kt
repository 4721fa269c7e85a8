package dev.fleetmdm.agent.core.command

import dev.fleetmdm.agent.core.install.ApkFacts
import dev.fleetmdm.agent.core.install.InstalledPackage
import java.io.File

/*
 * The narrow device operations the protocol's commands need. The Android app implements them with
 * DevicePolicyManager, PackageInstaller and the activity manager; tests implement them with fakes.
 */

interface DevicePower {
    /** Asks for a reboot (DevicePolicyManager.reboot); throws when the platform refuses. */
    fun reboot()

    fun lockScreen()

    /** Factory reset (DevicePolicyManager.wipeDevice / wipeData); throws when the platform refuses. */
    fun wipe()

    /**
     * RELEASE_OWNER: leaves lock task and gives up Device Owner (DevicePolicyManager.clearDeviceOwnerApp).
     * The device keeps its data and becomes an ordinary phone; only a new provisioning makes the agent
     * Device Owner again. Throws when the platform refuses.
     */
    fun releaseOwner()
}

interface KioskApps {
    /**
     * RELAUNCH_APP: ends the app's process and starts it fresh (Device Owner: hide and unhide the
     * package, then launch), so a hung app really restarts instead of showing an ANR dialog.
     * Null on success, else why it failed.
     */
    fun relaunch(packageName: String): String?

    /** Clears the package's data; returns null on success or the reason it failed. */
    fun clearData(packageName: String): String?
}

/**
 * The package manager, for INSTALL_APK. The core decides ([dev.fleetmdm.agent.core.install.InstallVerifier]);
 * this only reads and installs.
 */
interface ApkInstaller {
    /** Package, version and signer certificate digests of an archive; null when it is not an APK. */
    fun inspect(apk: File): ApkFacts?

    /** The installed package, or null when it is not installed. */
    fun installed(packageName: String): InstalledPackage?

    /**
     * Installs [apk] silently (the agent is Device Owner) and waits for the package installer's
     * answer. Null on success, else the reason. For the agent's own package a success usually
     * ends this process before it returns.
     */
    fun install(apk: File, packageName: String): String?
}

/** Settings and scheduling that commands change. */
interface AgentControl {
    fun heartbeatNow()

    fun setHeartbeatIntervalSec(seconds: Int)

    fun setKioskPackage(packageName: String)

    fun kioskPackage(): String?

    /** Forgets this device's enrollment: no more heartbeats (RELEASE_OWNER, after its result was reported). */
    fun forgetEnrollment(reason: String)
}

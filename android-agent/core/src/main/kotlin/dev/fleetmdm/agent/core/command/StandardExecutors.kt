package dev.fleetmdm.agent.core.command

import dev.fleetmdm.agent.core.agent.PendingOutcomes
import dev.fleetmdm.agent.core.install.ApkSignatures
import dev.fleetmdm.agent.core.install.InstallParams
import dev.fleetmdm.agent.core.install.InstallVerdict
import dev.fleetmdm.agent.core.install.InstallVerifier
import dev.fleetmdm.agent.core.net.Downloader
import java.io.File
import java.net.URI

/**
 * The executors for every command type of protocol v1, over the device ports. Params are checked
 * here again (the server checks them too): a command that got through with bad params fails with a
 * reason instead of doing something half-way.
 *
 * Results say what happened, never what was only asked for: REBOOT is reported after the next boot
 * ([pending]), WIPE and RELEASE_OWNER after DevicePolicyManager accepted them, INSTALL_APK after the package manager
 * lists the new version (the agent's own update: when the new agent starts).
 */
class StandardExecutors(
    private val power: DevicePower,
    private val apps: KioskApps,
    private val installer: ApkInstaller,
    private val downloader: Downloader,
    private val control: AgentControl,
    private val downloadDir: File,
    private val agentPackage: String = "dev.fleetmdm.agent",
    private val pending: PendingOutcomes? = null
) {
    fun all(): Map<String, CommandExecutor> = linkedMapOf(
        "REBOOT" to executor { reboot(it) },
        "RELAUNCH_APP" to executor { relaunch() },
        "PING" to executor {
            control.heartbeatNow()
            ExecutionResult.succeeded("pong")
        },
        "LOCK" to executor {
            power.lockScreen()
            ExecutionResult.succeeded("locked")
        },
        "CLEAR_APP_DATA" to executor { clearAppData() },
        "INSTALL_APK" to executor { installApk(it) },
        "SET_CONFIG" to executor { setConfig(it.params) },
        "WIPE" to executor { wipe() },
        "RELEASE_OWNER" to executor { releaseOwner() }
    )

    private fun reboot(command: Command): ExecutionResult {
        pending?.begin(command.cid, "REBOOT")
        try {
            power.reboot()
        } catch (e: Exception) {
            pending?.forget(command.cid)
            return ExecutionResult.failed("reboot refused: ${e.javaClass.simpleName}: ${e.message ?: "no message"}")
        }
        // Without a pending store (tests, the JVM) the accepted call is all there is to report.
        return if (pending != null) ExecutionResult.deferred("rebooting; reported once the device has booted again")
        else ExecutionResult.succeeded("reboot accepted")
    }

    private fun wipe(): ExecutionResult {
        try {
            power.wipe()
        } catch (e: Exception) {
            return ExecutionResult.failed("wipe refused: ${e.javaClass.simpleName}: ${e.message ?: "no message"}")
        }
        return ExecutionResult.succeeded("wipe accepted by DevicePolicyManager")
    }

    /**
     * Gives up Device Owner, reports success, and only then forgets the enrollment (so the result can
     * still be posted with this device's credentials); no heartbeat is sent afterwards. Irreversible
     * from the server: the agent no longer has the powers a command would need.
     */
    private fun releaseOwner(): ExecutionResult {
        try {
            power.releaseOwner()
        } catch (e: Exception) {
            return ExecutionResult.failed("release refused: ${e.javaClass.simpleName}: ${e.message ?: "no message"}")
        }
        return ExecutionResult.succeeded("Device Owner released; the agent stops reporting") {
            control.forgetEnrollment("RELEASE_OWNER")
        }
    }

    private fun relaunch(): ExecutionResult {
        val pkg = control.kioskPackage() ?: return ExecutionResult.failed("no kiosk package is configured")
        val error = apps.relaunch(pkg)
        return if (error == null) ExecutionResult.succeeded("restarted $pkg") else ExecutionResult.failed("restarting $pkg failed: $error")
    }

    private fun clearAppData(): ExecutionResult {
        val pkg = control.kioskPackage() ?: return ExecutionResult.failed("no kiosk package is configured")
        val error = apps.clearData(pkg)
        if (error != null) return ExecutionResult.failed("clearing $pkg failed: $error")
        val restart = apps.relaunch(pkg)
        return ExecutionResult.succeeded("cleared $pkg" + if (restart != null) "; restart failed: $restart" else "")
    }

    private fun installApk(command: Command): ExecutionResult {
        val parsed = InstallParams.parse(command.params)
        if (parsed is String) return ExecutionResult.failed(parsed)
        val params = parsed as InstallParams
        if (!downloadDir.isDirectory && !downloadDir.mkdirs()) return ExecutionResult.failed("cannot create $downloadDir")
        // Leftovers of an install the process did not survive.
        downloadDir.listFiles()?.forEach { it.delete() }
        val apk = File(downloadDir, "install-${params.versionCode}.apk")
        try {
            val download = downloader.download(params.url, apk, MAX_APK_BYTES)
            var blockError: String? = null
            val signers = try {
                ApkSignatures.read(apk)
            } catch (e: Exception) {
                blockError = e.message ?: e.javaClass.simpleName
                null
            }
            val facts = if (download.sha256Hex.equals(params.sha256, ignoreCase = true)) installer.inspect(apk) else null
            val verdict = InstallVerifier.verify(params, download.sha256Hex, facts, signers, blockError, installer.installed(params.packageName))
            when (verdict) {
                is InstallVerdict.Refuse -> return ExecutionResult.failed(verdict.reason)
                is InstallVerdict.AlreadyInstalled -> return ExecutionResult.succeeded(verdict.detail)
                is InstallVerdict.Proceed -> Unit
            }
            val self = params.packageName == agentPackage
            if (self) pending?.begin(command.cid, "INSTALL_APK", params.versionCode)
            val error = installer.install(apk, params.packageName)
            if (error != null) {
                if (self) pending?.forget(command.cid)
                return ExecutionResult.failed("install failed: $error")
            }
            // The agent's own update: this process is normally gone by now; the new agent reports.
            if (self && pending != null) return ExecutionResult.deferred("agent update to ${params.versionCode} committed; the new agent reports it")
            val problem = InstallVerifier.confirm(params, installer.installed(params.packageName))
            if (problem != null) return ExecutionResult.failed(problem)
            return ExecutionResult.succeeded(
                "installed ${params.packageName} (${params.versionCode})" + (params.releaseId?.let { ", release $it" } ?: "")
            )
        } finally {
            apk.delete()
        }
    }

    private fun setConfig(params: Params): ExecutionResult {
        val hasInterval = params.has("heartbeatIntervalSec")
        val hasKiosk = params.has("kioskPackage")
        if (!hasInterval && !hasKiosk) return ExecutionResult.failed("nothing to set")
        val interval = params.wholeNumber("heartbeatIntervalSec")
        if (hasInterval && (interval == null || interval < MIN_INTERVAL_SEC || interval > MAX_INTERVAL_SEC)) {
            return ExecutionResult.failed("heartbeatIntervalSec must be $MIN_INTERVAL_SEC-$MAX_INTERVAL_SEC")
        }
        val kiosk = params.string("kioskPackage")
        if (hasKiosk && (kiosk == null || !isPackageName(kiosk))) {
            return ExecutionResult.failed("kioskPackage must be an Android package name")
        }
        val changed = ArrayList<String>()
        if (interval != null) {
            control.setHeartbeatIntervalSec(interval.toInt())
            changed.add("heartbeatIntervalSec=$interval")
        }
        if (kiosk != null) {
            control.setKioskPackage(kiosk)
            changed.add("kioskPackage=$kiosk")
        }
        return ExecutionResult.succeeded(changed.joinToString(", "))
    }

    companion object {
        const val MIN_INTERVAL_SEC = 5L
        const val MAX_INTERVAL_SEC = 86_400L
        const val MAX_VERSION_CODE = 2_100_000_000L
        /** An agent or kiosk APK is far below this; it bounds what a bad URL can fill the disk with. */
        const val MAX_APK_BYTES = 1L shl 30
        private val PACKAGE_NAME = Regex("^[a-zA-Z][A-Za-z0-9_]*(\\.[a-zA-Z][A-Za-z0-9_]*)+$")

        fun isPackageName(value: String): Boolean = value.length <= 255 && PACKAGE_NAME.matches(value)

        fun isHttpsUrl(value: String): Boolean = try {
            val uri = URI(value)
            uri.scheme == "https" && !uri.host.isNullOrEmpty()
        } catch (e: Exception) {
            false
        }
    }
}

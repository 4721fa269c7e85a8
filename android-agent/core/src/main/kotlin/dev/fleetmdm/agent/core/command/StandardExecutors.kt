package dev.fleetmdm.agent.core.command

import dev.fleetmdm.agent.core.net.Downloader
import java.io.File
import java.net.URI

/**
 * The executors for every command type of protocol v1, over the device ports. Params are checked
 * here again (the server checks them too): a command that got through with bad params fails with a
 * reason instead of doing something half-way.
 */
class StandardExecutors(
    private val power: DevicePower,
    private val apps: KioskApps,
    private val installer: ApkInstaller,
    private val downloader: Downloader,
    private val control: AgentControl,
    private val downloadDir: File
) {
    fun all(): Map<String, CommandExecutor> = linkedMapOf(
        "REBOOT" to executor { ExecutionResult.succeeded("rebooting") { power.reboot() } },
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
        "INSTALL_APK" to executor { installApk(it.params) },
        "SET_CONFIG" to executor { setConfig(it.params) },
        "WIPE" to executor { ExecutionResult.succeeded("wiping") { power.wipe() } }
    )

    private fun relaunch(): ExecutionResult {
        val pkg = control.kioskPackage() ?: return ExecutionResult.failed("no kiosk package is configured")
        apps.relaunch(pkg)
        return ExecutionResult.succeeded("relaunched $pkg")
    }

    private fun clearAppData(): ExecutionResult {
        val pkg = control.kioskPackage() ?: return ExecutionResult.failed("no kiosk package is configured")
        val error = apps.clearData(pkg)
        if (error != null) return ExecutionResult.failed("clearing $pkg failed: $error")
        apps.relaunch(pkg)
        return ExecutionResult.succeeded("cleared $pkg")
    }

    private fun installApk(params: Params): ExecutionResult {
        val url = params.string("url")
        val sha256 = params.string("sha256")
        val versionCode = params.wholeNumber("versionCode")
        if (url == null || !isHttpsUrl(url)) return ExecutionResult.failed("params.url must be an https URL")
        if (sha256 == null || !SHA256_HEX.matches(sha256)) return ExecutionResult.failed("params.sha256 must be 64 hex digits")
        if (versionCode == null || versionCode < 1 || versionCode > MAX_VERSION_CODE) {
            return ExecutionResult.failed("params.versionCode must be a positive integer")
        }
        if (!downloadDir.isDirectory && !downloadDir.mkdirs()) return ExecutionResult.failed("cannot create $downloadDir")
        val apk = File(downloadDir, "install-$versionCode.apk")
        try {
            val download = downloader.download(url, apk, MAX_APK_BYTES)
            if (!download.sha256Hex.equals(sha256, ignoreCase = true)) {
                apk.delete()
                return ExecutionResult.failed("sha256 mismatch: expected $sha256, downloaded ${download.sha256Hex} (${download.bytes} bytes)")
            }
            return when (val outcome = installer.install(apk, versionCode)) {
                is InstallOutcome.Installed -> {
                    apk.delete()
                    ExecutionResult.succeeded("installed ${outcome.packageName} ${outcome.versionName ?: ""} (${outcome.versionCode})")
                }
                is InstallOutcome.Failed -> {
                    apk.delete()
                    ExecutionResult.failed(outcome.reason)
                }
                is InstallOutcome.ReplacesAgent -> ExecutionResult.succeeded(outcome.description, outcome.install)
            }
        } catch (e: Exception) {
            apk.delete()
            throw e
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
        private val SHA256_HEX = Regex("^[0-9a-fA-F]{64}$")
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

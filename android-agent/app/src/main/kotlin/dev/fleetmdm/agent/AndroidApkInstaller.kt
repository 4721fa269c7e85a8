package dev.fleetmdm.agent

import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.content.pm.PackageInfo
import android.content.pm.PackageInstaller
import android.content.pm.PackageManager
import android.content.pm.Signature
import android.os.Build
import dev.fleetmdm.agent.core.command.ApkInstaller
import dev.fleetmdm.agent.core.install.ApkFacts
import dev.fleetmdm.agent.core.install.ApkSignatures
import dev.fleetmdm.agent.core.install.InstalledPackage
import dev.fleetmdm.agent.core.log.Logger
import java.io.File
import java.security.MessageDigest
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

/**
 * INSTALL_APK's package manager side: reads an archive's package, version and signer certificates,
 * lists installed packages the same way, and installs with a PackageInstaller session (silent for a
 * Device Owner). Every decision is the core's (InstallVerifier); this only reads and installs.
 */
class AndroidApkInstaller(private val context: Context, private val log: Logger) : ApkInstaller {
    override fun inspect(apk: File): ApkFacts? {
        @Suppress("DEPRECATION")
        val info = context.packageManager.getPackageArchiveInfo(apk.path, signingFlags()) ?: return null
        return ApkFacts(info.packageName, versionCode(info), info.versionName, signers(info))
    }

    override fun installed(packageName: String): InstalledPackage? {
        val info = try {
            @Suppress("DEPRECATION")
            context.packageManager.getPackageInfo(packageName, signingFlags())
        } catch (e: PackageManager.NameNotFoundException) {
            return null
        }
        return InstalledPackage(versionCode(info), info.versionName, signers(info))
    }

    /** Commits a session and waits for the package installer's answer (for the agent itself, success usually ends this process first). */
    override fun install(apk: File, packageName: String): String? {
        val installer = context.packageManager.packageInstaller
        val params = PackageInstaller.SessionParams(PackageInstaller.SessionParams.MODE_FULL_INSTALL)
        params.setAppPackageName(packageName)
        if (Build.VERSION.SDK_INT >= 31) params.setRequireUserAction(PackageInstaller.SessionParams.USER_ACTION_NOT_REQUIRED)
        val sessionId = installer.createSession(params)
        val result = CompletableFuture<Pair<Int, String?>>()
        InstallResultReceiver.pending[sessionId] = result
        try {
            installer.openSession(sessionId).use { session ->
                apk.inputStream().use { input ->
                    session.openWrite("base.apk", 0, apk.length()).use { out ->
                        input.copyTo(out)
                        session.fsync(out)
                    }
                }
                val intent = Intent(context, InstallResultReceiver::class.java)
                    .setAction(InstallResultReceiver.ACTION)
                    .putExtra(InstallResultReceiver.EXTRA_SESSION, sessionId)
                // The installer fills in the status extras, so the PendingIntent must be mutable (explicit intent).
                val flags = PendingIntent.FLAG_UPDATE_CURRENT or (if (Build.VERSION.SDK_INT >= 31) PendingIntent.FLAG_MUTABLE else 0)
                session.commit(PendingIntent.getBroadcast(context, sessionId, intent, flags).intentSender)
            }
            log.info("install committed", "package" to packageName, "session" to sessionId)
            val (status, message) = result.get(10, TimeUnit.MINUTES)
            return if (status == PackageInstaller.STATUS_SUCCESS) null else "status $status: ${message ?: "no message"}"
        } catch (e: TimeoutException) {
            return "no result from the package installer in 10 minutes"
        } catch (e: Exception) {
            return "${e.javaClass.simpleName}: ${e.message}"
        } finally {
            InstallResultReceiver.pending.remove(sessionId)
        }
    }

    @Suppress("DEPRECATION")
    private fun signingFlags(): Int = if (Build.VERSION.SDK_INT >= 28) PackageManager.GET_SIGNING_CERTIFICATES else PackageManager.GET_SIGNATURES

    private fun versionCode(info: PackageInfo): Long =
        if (Build.VERSION.SDK_INT >= 28) info.longVersionCode else @Suppress("DEPRECATION") info.versionCode.toLong()

    /** SHA-256 of each current signer's certificate (DER), lowercase hex: apksigner's "certificate SHA-256 digest". */
    private fun signers(info: PackageInfo): List<String> {
        val signatures: Array<Signature>? = if (Build.VERSION.SDK_INT >= 28) {
            info.signingInfo?.apkContentsSigners
        } else {
            @Suppress("DEPRECATION") info.signatures
        }
        return signatures.orEmpty().map { ApkSignatures.hex(MessageDigest.getInstance("SHA-256").digest(it.toByteArray())) }
    }
}

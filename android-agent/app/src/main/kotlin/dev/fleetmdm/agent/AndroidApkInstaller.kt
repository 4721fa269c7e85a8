package dev.fleetmdm.agent

import android.app.PendingIntent
import android.content.Context
import android.content.Intent
import android.content.pm.PackageInstaller
import android.os.Build
import dev.fleetmdm.agent.core.command.ApkInstaller
import dev.fleetmdm.agent.core.command.InstallOutcome
import dev.fleetmdm.agent.core.log.Logger
import java.io.File
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException

/**
 * INSTALL_APK's last step: a PackageInstaller session. As Device Owner the install needs no user
 * action. The APK's own version code must be the one the signed command named. An APK of the agent
 * itself is committed only after the result was reported, since installing it ends this process.
 */
class AndroidApkInstaller(private val context: Context, private val log: Logger) : ApkInstaller {
    override fun install(apk: File, versionCode: Long): InstallOutcome {
        val archive = context.packageManager.getPackageArchiveInfo(apk.path, 0)
            ?: return InstallOutcome.Failed("the download is not an APK")
        val archiveVersion = if (Build.VERSION.SDK_INT >= 28) archive.longVersionCode else @Suppress("DEPRECATION") archive.versionCode.toLong()
        if (archiveVersion != versionCode) {
            return InstallOutcome.Failed("the APK has versionCode $archiveVersion, the command named $versionCode")
        }
        val pkg = archive.packageName
        if (pkg == context.packageName) {
            return InstallOutcome.ReplacesAgent({ commit(apk, pkg, wait = false) }, "installing agent $versionCode; it reports in its next heartbeat")
        }
        val status = commit(apk, pkg, wait = true)
        apk.delete()
        return if (status.first == PackageInstaller.STATUS_SUCCESS) InstallOutcome.Installed(pkg, archive.versionName, archiveVersion)
        else InstallOutcome.Failed("install failed (${status.first}): ${status.second ?: "no message"}")
    }

    /** Writes the APK into a session and commits it; waits for the result unless [wait] is false. */
    private fun commit(apk: File, packageName: String, wait: Boolean): Pair<Int, String?> {
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
            if (!wait) return Pair(PackageInstaller.STATUS_PENDING_USER_ACTION, "committed")
            return result.get(10, TimeUnit.MINUTES)
        } catch (e: TimeoutException) {
            return Pair(PackageInstaller.STATUS_FAILURE, "no result from the package installer in 10 minutes")
        } finally {
            if (wait) InstallResultReceiver.pending.remove(sessionId)
        }
    }
}

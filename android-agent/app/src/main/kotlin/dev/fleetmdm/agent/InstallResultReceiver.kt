package dev.fleetmdm.agent

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.pm.PackageInstaller
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ConcurrentHashMap

/** The package installer's answer to a committed session, handed to the waiting INSTALL_APK. */
class InstallResultReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        val sessionId = intent.getIntExtra(EXTRA_SESSION, -1)
        val status = intent.getIntExtra(PackageInstaller.EXTRA_STATUS, PackageInstaller.STATUS_FAILURE)
        val message = intent.getStringExtra(PackageInstaller.EXTRA_STATUS_MESSAGE)
        val log = AgentRuntime.get(context).log
        if (status == PackageInstaller.STATUS_PENDING_USER_ACTION) {
            // Not expected for a Device Owner; if the system insists, show its confirmation.
            log.warn("install needs user action", "session" to sessionId)
            @Suppress("DEPRECATION")
            val confirm = intent.getParcelableExtra<Intent>(Intent.EXTRA_INTENT)
            confirm?.addFlags(Intent.FLAG_ACTIVITY_NEW_TASK)?.let { context.startActivity(it) }
            return
        }
        log.info("install finished", "session" to sessionId, "status" to status, "message" to message)
        pending.remove(sessionId)?.complete(Pair(status, message))
    }

    companion object {
        const val ACTION = "dev.fleetmdm.agent.action.INSTALL_RESULT"
        const val EXTRA_SESSION = "session_id"
        val pending = ConcurrentHashMap<Int, CompletableFuture<Pair<Int, String?>>>()
    }
}

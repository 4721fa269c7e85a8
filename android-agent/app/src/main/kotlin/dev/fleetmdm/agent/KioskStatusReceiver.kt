package dev.fleetmdm.agent

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.os.SystemClock
import java.util.concurrent.ConcurrentHashMap

/**
 * The kiosk app's optional status report, sent every few seconds:
 * `Intent("dev.fleetmdm.agent.action.KIOSK_STATUS").setClassName("dev.fleetmdm.agent",
 * "dev.fleetmdm.agent.KioskStatusReceiver").putExtra("package", packageName)
 * .putExtra("last_frame_elapsed_ms", SystemClock.elapsedRealtime() at the last rendered frame)`.
 * Only reports for the configured kiosk package count.
 */
class KioskStatusReceiver : BroadcastReceiver() {
    class Report(val lastFrameElapsedMs: Long, val receivedAtElapsedMs: Long)

    override fun onReceive(context: Context, intent: Intent) {
        val pkg = intent.getStringExtra(EXTRA_PACKAGE) ?: return
        if (pkg != AgentRuntime.get(context).settings.kioskPackage) return
        val now = SystemClock.elapsedRealtime()
        val frame = intent.getLongExtra(EXTRA_LAST_FRAME, -1L)
        // A frame time from the future or before boot is not believable; count it as "just now".
        reports[pkg] = Report(if (frame in 0..now) frame else now, now)
    }

    companion object {
        const val EXTRA_PACKAGE = "package"
        const val EXTRA_LAST_FRAME = "last_frame_elapsed_ms"
        private val reports = ConcurrentHashMap<String, Report>()

        fun latest(packageName: String): Report? = reports[packageName]
    }
}

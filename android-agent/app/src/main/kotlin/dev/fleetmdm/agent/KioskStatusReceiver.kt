package dev.fleetmdm.agent

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.SystemClock
import dev.fleetmdm.agent.core.security.KioskReportGate
import java.util.concurrent.ConcurrentHashMap

/**
 * The kiosk app's status report, sent every few seconds (README, "Unity integration"):
 * `Intent("dev.fleetmdm.agent.action.KIOSK_STATUS").setClassName("dev.fleetmdm.agent",
 * "dev.fleetmdm.agent.KioskStatusReceiver").putExtra("package", packageName)
 * .putExtra("last_frame_elapsed_ms", SystemClock.elapsedRealtime() at the last rendered frame)`.
 *
 * Declared with `android:permission="dev.fleetmdm.agent.permission.REPORT_KIOSK_STATUS"`, a
 * dangerous-level permission the agent defines and, as Device Owner, grants to the kiosk app only;
 * the core's [KioskReportGate] then takes reports that name the kiosk package (and, where Android
 * 14+ names the sender, come from it).
 */
class KioskStatusReceiver : BroadcastReceiver() {
    class Report(val lastFrameElapsedMs: Long, val receivedAtElapsedMs: Long)

    override fun onReceive(context: Context, intent: Intent) {
        val pkg = intent.getStringExtra(EXTRA_PACKAGE)
        val sender = if (Build.VERSION.SDK_INT >= 34) sentFromPackage else null
        if (pkg == null || !KioskReportGate.accept(pkg, AgentRuntime.get(context).settings.kioskPackage, sender)) return
        val now = SystemClock.elapsedRealtime()
        reports[pkg] = Report(KioskReportGate.frameTime(intent.getLongExtra(EXTRA_LAST_FRAME, -1L), now), now)
    }

    companion object {
        const val EXTRA_PACKAGE = "package"
        const val EXTRA_LAST_FRAME = "last_frame_elapsed_ms"
        private val reports = ConcurrentHashMap<String, Report>()

        fun latest(packageName: String): Report? = reports[packageName]
    }
}

package dev.fleetmdm.agent

import android.app.ActivityManager
import android.app.AppOpsManager
import android.app.usage.UsageEvents
import android.app.usage.UsageStatsManager
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.os.Process
import android.os.SystemClock
import dev.fleetmdm.agent.core.kiosk.KioskProbe
import dev.fleetmdm.agent.core.kiosk.KioskState

/**
 * What Android lets an app know about another app, best source first:
 *  1. the kiosk app's own status broadcasts (KioskStatusReceiver): alive and its last frame;
 *  2. usage events, when the agent was granted usage access (appops GET_USAGE_STATS);
 *  3. lock task mode (Android 9+, Device Owner): only the kiosk app and the agent's home screen may
 *     run locked, so a locked task while the home screen is not showing means the kiosk app is in front.
 * The agent's home screen showing always means "not in front". Without any of these (Android 8.x
 * without usage access or reports) the state is unknown, and the watchdog then does not guess.
 */
class AndroidKioskProbe(private val context: Context) : KioskProbe {
    override fun state(packageName: String): KioskState {
        if (!installed(packageName)) return KioskState(false, false, false, null)
        val now = SystemClock.elapsedRealtime()
        val report = KioskStatusReceiver.latest(packageName)
        val reportFresh = report != null && now - report.receivedAtElapsedMs <= REPORT_FRESH_MS
        val frameAge = report?.let { Math.max(0L, now - it.lastFrameElapsedMs) }
        if (HomeActivity.isShowing) return KioskState(true, reportFresh, false, if (reportFresh) frameAge else null, true)
        val foregroundByUsage = foregroundByUsage(packageName)
        val lockTaskKnown = Build.VERSION.SDK_INT >= 28 && AgentRuntime.get(context).owner.isDeviceOwner()
        val locked = context.getSystemService(ActivityManager::class.java).lockTaskModeState != ActivityManager.LOCK_TASK_MODE_NONE
        val foreground = foregroundByUsage ?: (locked && lockTaskKnown)
        val known = foregroundByUsage != null || lockTaskKnown
        val running = reportFresh || foreground
        return KioskState(true, running, foreground, if (running) frameAge else null, known)
    }

    private fun installed(packageName: String): Boolean = try {
        context.packageManager.getPackageInfo(packageName, 0)
        true
    } catch (e: PackageManager.NameNotFoundException) {
        false
    }

    /** The last resume/pause event of the last minute decides; null without usage access or events. */
    private fun foregroundByUsage(packageName: String): Boolean? {
        if (!hasUsageAccess()) return null
        val usage = context.getSystemService(UsageStatsManager::class.java)
        val end = System.currentTimeMillis()
        val events = usage.queryEvents(end - 60_000, end)
        val event = UsageEvents.Event()
        var foreground: Boolean? = null
        while (events.hasNextEvent()) {
            events.getNextEvent(event)
            val resumed = if (Build.VERSION.SDK_INT >= 29) UsageEvents.Event.ACTIVITY_RESUMED else @Suppress("DEPRECATION") UsageEvents.Event.MOVE_TO_FOREGROUND
            val paused = if (Build.VERSION.SDK_INT >= 29) UsageEvents.Event.ACTIVITY_PAUSED else @Suppress("DEPRECATION") UsageEvents.Event.MOVE_TO_BACKGROUND
            if (event.eventType == resumed) foreground = event.packageName == packageName
            else if (event.eventType == paused && event.packageName == packageName) foreground = false
        }
        return foreground
    }

    private fun hasUsageAccess(): Boolean {
        val appOps = context.getSystemService(AppOpsManager::class.java)
        val mode = if (Build.VERSION.SDK_INT >= 29) {
            appOps.unsafeCheckOpNoThrow(AppOpsManager.OPSTR_GET_USAGE_STATS, Process.myUid(), context.packageName)
        } else {
            @Suppress("DEPRECATION") appOps.checkOpNoThrow(AppOpsManager.OPSTR_GET_USAGE_STATS, Process.myUid(), context.packageName)
        }
        return mode == AppOpsManager.MODE_ALLOWED
    }

    private companion object {
        /** The kiosk app reports every few seconds; silence for this long means it is not running. */
        const val REPORT_FRESH_MS = 15_000L
    }
}

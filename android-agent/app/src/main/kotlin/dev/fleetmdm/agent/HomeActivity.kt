package dev.fleetmdm.agent

import android.app.Activity
import android.app.ActivityManager
import android.content.Intent
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.view.Gravity
import android.widget.TextView
import dev.fleetmdm.agent.core.kiosk.WatchdogAction

/**
 * The device's home screen while the agent is Device Owner. It runs in lock task itself (the agent
 * is one of the lock task packages), so the device stays locked when the kiosk app is not in
 * front - missing, crash-looping, or between two starts - and no status bar, notification shade,
 * recents or crash dialog "App info" button leads into Settings.
 *
 * Whenever it shows, the kiosk app has left the front; it asks the watchdog, which brings the app
 * back through the shared crash-loop backoff - never one start per resume.
 */
class HomeActivity : Activity() {
    private lateinit var text: TextView
    private val handler = Handler(Looper.getMainLooper())
    private val retry = Runnable { bringKioskBack() }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        text = TextView(this).apply {
            gravity = Gravity.CENTER
            textSize = 18f
            setPadding(48, 48, 48, 48)
        }
        setContentView(text)
    }

    override fun onResume() {
        super.onResume()
        isShowing = true
        lockIfAllowed()
        bringKioskBack()
    }

    /** Shown again while on top (singleTask): after a maintenance window, lock again. */
    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        setIntent(intent)
        lockIfAllowed()
    }

    override fun onPause() {
        isShowing = false
        handler.removeCallbacks(retry)
        super.onPause()
    }

    /** Enters lock task unless already locked, in maintenance, or the agent may not (not Device Owner). */
    private fun lockIfAllowed() {
        val runtime = AgentRuntime.get(this)
        val am = getSystemService(ActivityManager::class.java)
        if (runtime.inMaintenance()) {
            if (am.lockTaskModeState != ActivityManager.LOCK_TASK_MODE_NONE) {
                try {
                    stopLockTask()
                } catch (e: RuntimeException) {
                    runtime.log.warn("could not leave lock task for maintenance", "error" to e.message)
                }
            }
            return
        }
        if (!runtime.policy().lockTask || !runtime.owner.isDeviceOwner()) return
        if (!runtime.owner.dpm.isLockTaskPermitted(packageName)) return
        if (am.lockTaskModeState != ActivityManager.LOCK_TASK_MODE_NONE) return
        try {
            startLockTask()
        } catch (e: RuntimeException) {
            runtime.log.error("could not enter lock task on the home screen", e)
        }
    }

    private fun bringKioskBack() {
        val runtime = AgentRuntime.get(this)
        val kiosk = runtime.settings.kioskPackage
        if (kiosk == null) {
            text.text = getString(R.string.home_no_kiosk)
            return
        }
        if (runtime.inMaintenance()) {
            text.text = getString(R.string.home_maintenance)
            return
        }
        when (runtime.watchdog.onHomeShown(kiosk)) {
            WatchdogAction.MISSING -> text.text = getString(R.string.home_missing, kiosk)
            WatchdogAction.WAITING, WatchdogAction.LAUNCH_FAILED -> {
                val waitMs = Math.max(1_000L, runtime.watchdog.waitMs())
                text.text = getString(R.string.home_waiting, kiosk, (waitMs + 999) / 1000)
                handler.removeCallbacks(retry)
                handler.postDelayed(retry, waitMs)
            }
            else -> text.text = getString(R.string.home_starting, kiosk)
        }
    }

    companion object {
        @Volatile var isShowing = false
            private set
    }
}

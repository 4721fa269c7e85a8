package dev.fleetmdm.agent.core.kiosk

import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.Backoff

/** What the device can tell about the kiosk app right now. */
class KioskState(
    val installed: Boolean,
    val running: Boolean,
    val foreground: Boolean,
    /** Milliseconds since the app last rendered a frame, when the app reports it. */
    val lastFrameAgeMs: Long?,
    /**
     * Whether [running] and [foreground] are known. Without usage access, frame reports or lock
     * task mode (Android 8.x) the agent cannot see another app in front; then only the agent's home
     * screen showing (certainly not in front) is acted on - never "not seen, so restart it".
     */
    val known: Boolean = true
)

interface KioskProbe {
    fun state(packageName: String): KioskState
}

interface KioskLauncher {
    /**
     * Brings the app to the front: its existing task when it runs (no FLAG_ACTIVITY_CLEAR_TASK, so a
     * Unity scene is not restarted), a new start when it does not. False when it could not be started.
     */
    fun launch(packageName: String): Boolean

    /**
     * Ends the app's process and starts it fresh - for a frozen app, where bringing it to the front
     * would only show an ANR dialog (Device Owner: hide then unhide the package, which stops it, then
     * launch). Null on success, else why it failed.
     */
    fun forceRestart(packageName: String): String? = if (launch(packageName)) null else "could not start $packageName"
}

enum class WatchdogAction { NONE, WAITING, RELAUNCHED, LAUNCH_FAILED, RESTARTED, RESTART_FAILED, MISSING, UNKNOWN }

/**
 * Keeps the kiosk app in the foreground. Called every few seconds by the agent's service, and at
 * once by the home screen when it shows ([onHomeShown]); both go through one [RelaunchPolicy], so a
 * crash loop is throttled whichever path sees it.
 *
 * - Out of the foreground for [graceMs] (or the home screen showing): brought to the front.
 * - No frame for [frozenAfterMs]: `app.frozen` is reported; after [restartFrozenAfterMs] (0: never)
 *   the app is force-restarted, reported as `app.force_restart` (attempt, ok) and later
 *   `app.force_restart_result` (recovered true/false).
 * - [crashLoopAttempts][RelaunchPolicy.crashLoopAttempts] starts without a stable run: `app.crash_loop`, once.
 *
 * [nowMs] is elapsed realtime.
 */
class KioskWatchdog(
    private val probe: KioskProbe,
    private val launcher: KioskLauncher,
    private val events: EventQueue,
    backoff: Backoff,
    private val nowMs: () -> Long,
    private val log: Logger,
    private val graceMs: Long = 5_000,
    private val frozenAfterMs: Long = 30_000,
    private val restartFrozenAfterMs: Long = 0,
    stableMs: Long = 30_000
) {
    val policy = RelaunchPolicy(backoff, stableMs)
    private var downSinceMs: Long? = null
    private var frozenReported = false
    private var crashLoopReported = false
    private var missingReported: String? = null
    private var restartCheckAtMs: Long? = null
    var lastState: KioskState? = null
        private set

    @Synchronized
    fun check(packageName: String?): WatchdogAction = check(packageName, false)

    /** The agent's home screen is showing, so the kiosk app is certainly not in front. */
    @Synchronized
    fun onHomeShown(packageName: String?): WatchdogAction = check(packageName, true)

    /** Milliseconds until the shared backoff allows the next start (for the home screen's text). */
    @Synchronized
    fun waitMs(): Long = policy.waitMs(nowMs())

    private fun check(packageName: String?, homeShown: Boolean): WatchdogAction {
        if (packageName == null) return WatchdogAction.NONE
        val probed = probe.state(packageName)
        val state = if (homeShown) KioskState(probed.installed, probed.running, false, probed.lastFrameAgeMs, true) else probed
        lastState = state
        val now = nowMs()
        if (!state.installed) {
            if (missingReported != packageName) {
                events.add("app.missing", mapOf("package" to packageName))
                log.warn("kiosk app is not installed", "package" to packageName)
                missingReported = packageName
            }
            return WatchdogAction.MISSING
        }
        missingReported = null
        if (!state.known) return WatchdogAction.UNKNOWN

        val frozen = checkFrozen(packageName, state)
        val healthy = state.running && state.foreground && !frozen
        checkRestartOutcome(packageName, healthy, now)
        if (policy.observe(healthy, now)) {
            events.add("app.recovered", mapOf("package" to packageName))
            crashLoopReported = false
        }
        if (healthy) {
            downSinceMs = null
            return WatchdogAction.NONE
        }
        if (frozen) return restartFrozen(packageName, state, now)
        if (state.running && state.foreground) return WatchdogAction.NONE

        val since = downSinceMs ?: now
        downSinceMs = since
        if ((!homeShown && now - since < graceMs) || policy.waitMs(now) > 0) return WatchdogAction.WAITING
        val attempt = policy.take(now)
        val reason = if (homeShown) "home" else if (state.running) "not_foreground" else "not_running"
        val launched = launcher.launch(packageName)
        events.add("app.relaunched", mapOf("package" to packageName, "reason" to reason, "attempt" to attempt, "ok" to launched))
        log.warn("kiosk app brought to front", "package" to packageName, "reason" to reason, "attempt" to attempt, "ok" to launched)
        reportCrashLoop(packageName)
        return if (launched) WatchdogAction.RELAUNCHED else WatchdogAction.LAUNCH_FAILED
    }

    private fun restartFrozen(packageName: String, state: KioskState, now: Long): WatchdogAction {
        val age = state.lastFrameAgeMs ?: 0L
        if (restartFrozenAfterMs <= 0) return WatchdogAction.NONE
        if (age < restartFrozenAfterMs || restartCheckAtMs != null) return WatchdogAction.WAITING
        if (policy.waitMs(now) > 0) return WatchdogAction.WAITING
        val attempt = policy.take(now)
        val error = try {
            launcher.forceRestart(packageName)
        } catch (e: Exception) {
            "${e.javaClass.simpleName}: ${e.message}"
        }
        events.add(
            "app.force_restart",
            mapOf("package" to packageName, "reason" to "frozen", "lastFrameAgeMs" to age, "attempt" to attempt, "ok" to (error == null), "error" to error)
        )
        log.warn("frozen kiosk app force-restarted", "package" to packageName, "attempt" to attempt, "error" to error)
        reportCrashLoop(packageName)
        if (error != null) return WatchdogAction.RESTART_FAILED
        restartCheckAtMs = now + RESTART_VERDICT_MS
        frozenReported = false
        return WatchdogAction.RESTARTED
    }

    /** After a forced restart: healthy again means recovered; still not by [RESTART_VERDICT_MS] means not. */
    private fun checkRestartOutcome(packageName: String, healthy: Boolean, now: Long) {
        val verdictAt = restartCheckAtMs ?: return
        if (!healthy && now < verdictAt) return
        events.add("app.force_restart_result", mapOf("package" to packageName, "recovered" to healthy))
        restartCheckAtMs = null
    }

    private fun reportCrashLoop(packageName: String) {
        if (!policy.inCrashLoop() || crashLoopReported) return
        crashLoopReported = true
        events.add("app.crash_loop", mapOf("package" to packageName, "attempts" to policy.attempts))
        log.error("kiosk app is in a crash loop; starts are spaced out", null, "package" to packageName, "attempts" to policy.attempts)
    }

    private fun checkFrozen(packageName: String, state: KioskState): Boolean {
        val age = state.lastFrameAgeMs
        val frozen = state.running && age != null && age >= frozenAfterMs
        if (frozen && !frozenReported) {
            events.add("app.frozen", mapOf("package" to packageName, "lastFrameAgeMs" to age))
            log.warn("kiosk app stopped rendering", "package" to packageName, "lastFrameAgeMs" to age)
        }
        frozenReported = frozen
        return frozen
    }

    companion object {
        /** How long a force-restarted app has to come back before the restart counts as not helping. */
        const val RESTART_VERDICT_MS = 60_000L
    }
}

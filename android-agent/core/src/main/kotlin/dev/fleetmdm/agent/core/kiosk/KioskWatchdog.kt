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
    val lastFrameAgeMs: Long?
)

interface KioskProbe {
    fun state(packageName: String): KioskState
}

interface KioskLauncher {
    /** Starts the app (in lock task mode where allowed); false when it could not be started. */
    fun launch(packageName: String): Boolean
}

enum class WatchdogAction { NONE, WAITING, RELAUNCHED, LAUNCH_FAILED, MISSING }

/**
 * Keeps the kiosk app in the foreground. Called every few seconds: once the app has been out of
 * the foreground (or not running) for [graceMs] it is launched again, and while launches do not
 * bring it back they are spaced out on [backoff]. A frozen app (no frame for [frozenAfterMs]) is
 * reported as an event, not killed: the server's self-healing decides about RELAUNCH_APP.
 */
class KioskWatchdog(
    private val probe: KioskProbe,
    private val launcher: KioskLauncher,
    private val events: EventQueue,
    private val backoff: Backoff,
    private val nowMs: () -> Long,
    private val log: Logger,
    private val graceMs: Long = 5_000,
    private val frozenAfterMs: Long = 30_000
) {
    private var downSinceMs: Long? = null
    private var attempts = 0
    private var nextAttemptAtMs = 0L
    private var frozenReported = false
    private var missingReported: String? = null
    var lastState: KioskState? = null
        private set

    @Synchronized
    fun check(packageName: String?): WatchdogAction {
        if (packageName == null) return WatchdogAction.NONE
        val state = probe.state(packageName)
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
        checkFrozen(packageName, state)
        if (state.running && state.foreground) {
            if (attempts > 0) events.add("app.recovered", mapOf("package" to packageName, "attempts" to attempts))
            downSinceMs = null
            attempts = 0
            nextAttemptAtMs = 0
            return WatchdogAction.NONE
        }
        val since = downSinceMs ?: now
        downSinceMs = since
        if (now - since < graceMs || now < nextAttemptAtMs) return WatchdogAction.WAITING
        attempts++
        nextAttemptAtMs = now + backoff.delayMs(attempts)
        val reason = if (state.running) "not_foreground" else "not_running"
        val launched = launcher.launch(packageName)
        events.add("app.relaunched", mapOf("package" to packageName, "reason" to reason, "attempt" to attempts, "ok" to launched))
        log.warn("kiosk app relaunched", "package" to packageName, "reason" to reason, "attempt" to attempts, "ok" to launched)
        return if (launched) WatchdogAction.RELAUNCHED else WatchdogAction.LAUNCH_FAILED
    }

    private fun checkFrozen(packageName: String, state: KioskState) {
        val age = state.lastFrameAgeMs
        val frozen = state.running && age != null && age >= frozenAfterMs
        if (frozen && !frozenReported) {
            events.add("app.frozen", mapOf("package" to packageName, "lastFrameAgeMs" to age))
            log.warn("kiosk app stopped rendering", "package" to packageName, "lastFrameAgeMs" to age)
        }
        frozenReported = frozen
    }
}

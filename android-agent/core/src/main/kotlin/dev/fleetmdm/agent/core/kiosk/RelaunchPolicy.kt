package dev.fleetmdm.agent.core.kiosk

import dev.fleetmdm.agent.core.net.Backoff

/**
 * The crash-loop backoff every relaunch path shares (the watchdog's checks, the home screen
 * showing, a frozen app's forced restart). The first start after the app was seen healthy goes at
 * once; each further one waits longer ([backoff]: 5 s doubling to 5 min on the device). The count
 * is reset only once the app has stayed in front for [stableMs]: an app that crashes two seconds
 * after every start is a crash loop, not a recovery, and must not be restarted at full speed
 * (nor flood the event queue). [crashLoopAttempts] starts in a row mark a crash loop.
 *
 * Times are elapsed realtime (monotonic). Not thread-safe: its owner ([KioskWatchdog]) synchronizes.
 */
class RelaunchPolicy(
    private val backoff: Backoff,
    private val stableMs: Long = 30_000,
    val crashLoopAttempts: Int = 5
) {
    /** Starts since the app was last stable in front. */
    var attempts = 0
        private set
    private var nextAttemptAtMs = 0L
    private var foregroundSinceMs: Long? = null

    /** Records whether the app is in front; true when a run of starts just ended in a stable app. */
    fun observe(foreground: Boolean, nowMs: Long): Boolean {
        if (!foreground) {
            foregroundSinceMs = null
            return false
        }
        val since = foregroundSinceMs ?: nowMs
        foregroundSinceMs = since
        if (attempts > 0 && nowMs - since >= stableMs) {
            attempts = 0
            nextAttemptAtMs = 0
            return true
        }
        return false
    }

    /** How long until another start is allowed (0: now). */
    fun waitMs(nowMs: Long): Long = Math.max(0L, nextAttemptAtMs - nowMs)

    /** Takes the next start; returns its number (1 for the first since the app was stable). */
    fun take(nowMs: Long): Int {
        attempts++
        nextAttemptAtMs = nowMs + backoff.delayMs(attempts)
        foregroundSinceMs = null
        return attempts
    }

    fun inCrashLoop(): Boolean = attempts >= crashLoopAttempts
}

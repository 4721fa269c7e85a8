package dev.fleetmdm.agent.core.agent

/**
 * A clock that only moves forward and keeps counting while the CPU sleeps: Android's
 * `SystemClock.elapsedRealtime()`. Schedules are computed on it, so a wall-clock correction (NTP,
 * an operator setting the time, a dead RTC battery) never postpones or hurries a heartbeat.
 */
interface MonotonicClock {
    fun elapsedMs(): Long
}

/** A [MonotonicClock] from a function (Kotlin 1.3 has no `fun interface`). */
fun monotonicClock(block: () -> Long): MonotonicClock = object : MonotonicClock {
    override fun elapsedMs(): Long = block()
}

/** Keeps the CPU awake while a block runs (a partial wakelock on Android, with a timeout as a safety net). */
interface WakeLock {
    fun <T> holding(timeoutMs: Long, block: () -> T): T
}

object NoWakeLock : WakeLock {
    override fun <T> holding(timeoutMs: Long, block: () -> T): T = block()
}

enum class AlarmKind {
    /** `AlarmManager.setExactAndAllowWhileIdle`: on time, also in Doze (where Android spaces them ~9 min apart). */
    EXACT_WHILE_IDLE,

    /** `AlarmManager.setAndAllowWhileIdle`: fires in Doze too, but the system may deliver it later. */
    INEXACT_WHILE_IDLE
}

/** One alarm on the elapsed-realtime clock (`ELAPSED_REALTIME_WAKEUP`). */
class AlarmPlan(val kind: AlarmKind, val triggerAtElapsedMs: Long) {
    override fun toString(): String = "AlarmPlan($kind at $triggerAtElapsedMs)"
}

/** Wakes the device for the next heartbeat loop turn; the Android side is AlarmManager. */
interface AlarmPort {
    /** Whether exact alarms are allowed now (Android 12+: `AlarmManager.canScheduleExactAlarms()`). */
    fun exactAllowed(): Boolean

    /** Replaces the previously set alarm. */
    fun set(plan: AlarmPlan)

    fun cancel()
}

object AlarmPlanner {
    /** An alarm sooner than this after now is not worth a separate wakeup; the loop is awake anyway. */
    const val MIN_LEAD_MS = 1_000L

    /**
     * The alarm for a loop turn due at [dueAtElapsedMs]: exact and allowed while idle when the
     * platform lets the agent set exact alarms, otherwise the inexact while-idle kind - never a plain
     * alarm, which Doze would hold back until the next maintenance window.
     */
    fun plan(dueAtElapsedMs: Long, nowElapsedMs: Long, exactAllowed: Boolean): AlarmPlan {
        val at = Math.max(dueAtElapsedMs, nowElapsedMs + MIN_LEAD_MS)
        return AlarmPlan(if (exactAllowed) AlarmKind.EXACT_WHILE_IDLE else AlarmKind.INEXACT_WHILE_IDLE, at)
    }
}

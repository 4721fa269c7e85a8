package dev.fleetmdm.agent.core.agent

import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.Backoff

/**
 * The heartbeat schedule: one heartbeat per interval (spread by ±10 % so a fleet does not beat in
 * step), a heartbeat at once when asked (PING, enrollment, a new interval), and while heartbeats
 * wait in the offline buffer, upload attempts on an exponential backoff between the beats - so the
 * buffer goes up soon after the network returns, without building extra heartbeats.
 *
 * The schedule runs on [clock] (elapsed realtime), never the wall clock. A thread waiting for its
 * next turn does not run while the CPU sleeps, so after every turn an alarm that fires in Doze is
 * set for the next one ([alarms]); its receiver calls [Wakeup.requestTick]. Each turn runs under a
 * partial [wakeLock], so the CPU cannot fall asleep half way through a heartbeat.
 *
 * [run] blocks; the Android foreground service runs it on its own thread and [stop]s it.
 */
class AgentLoop(
    private val agent: Agent,
    private val backoff: Backoff,
    private val clock: MonotonicClock,
    private val random: () -> Double,
    private val log: Logger,
    private val alarms: AlarmPort? = null,
    private val wakeLock: WakeLock = NoWakeLock
) {
    private fun nowMs(): Long = clock.elapsedMs()

    @Volatile private var running = true
    private var nextBeatAtMs = 0L
    private var failures = 0

    fun run() {
        log.info("heartbeat loop started")
        while (running) {
            turn()
            if (!running) break
            val wake = agent.wakeup.await(waitMs())
            if (wake == Wake.BEAT) nextBeatAtMs = 0
            if (wake == Wake.FLUSH && failures == 0) failures = 1
        }
        log.info("heartbeat loop stopped")
    }

    fun stop() {
        running = false
        agent.wakeup.requestBeat()
        try {
            alarms?.cancel()
        } catch (e: Exception) {
            log.warn("could not cancel the heartbeat alarm", "error" to e.message)
        }
    }

    /** One turn under the wakelock, then the alarm for the next one. Never throws. */
    fun turn() {
        wakeLock.holding(WAKELOCK_TIMEOUT_MS) {
            try {
                step()
            } catch (e: Exception) {
                // Never let one bad heartbeat end the loop; the next interval tries again.
                log.error("heartbeat loop step failed", e)
                failures++
                nextBeatAtMs = nowMs() + backoff.delayMs(failures)
            }
        }
        if (!running) return
        val port = alarms ?: return
        // Not enrolled: nothing to beat for, and no reason to wake a sleeping device (enrollment wakes the loop).
        if (!agent.isEnrolled()) return
        try {
            port.set(AlarmPlanner.plan(nowMs() + waitMs(), nowMs(), port.exactAllowed()))
        } catch (e: Exception) {
            log.error("could not set the heartbeat alarm", e)
        }
    }

    /** One turn: a heartbeat when due, else an upload attempt when heartbeats are buffered. */
    fun step() {
        if (!agent.isEnrolled()) {
            nextBeatAtMs = 0
            failures = 0
            return
        }
        val now = nowMs()
        if (now >= nextBeatAtMs) {
            agent.wakeup.clearBeat()
            val report = agent.heartbeat()
            failures = if (report.sent) 0 else failures + 1
            nextBeatAtMs = now + jittered(agent.intervalMs())
        } else if (failures > 0 && agent.bufferedHeartbeats() > 0) {
            failures = if (agent.flush()) 0 else failures + 1
        }
    }

    /** How long to sleep after [step]. */
    fun waitMs(): Long {
        if (!agent.isEnrolled()) return NOT_ENROLLED_WAIT_MS
        var wait = nextBeatAtMs - nowMs()
        if (failures > 0 && agent.bufferedHeartbeats() > 0) wait = Math.min(wait, backoff.delayMs(failures))
        return Math.max(0L, wait)
    }

    private fun jittered(intervalMs: Long): Long = (intervalMs * (1.0 - JITTER + 2 * JITTER * random())).toLong()

    companion object {
        const val JITTER = 0.1
        /** Until enrolled the loop only wakes for an enrollment (which requests a heartbeat). */
        const val NOT_ENROLLED_WAIT_MS = 60_000L
        /** A heartbeat, its commands' reports and a buffer upload fit in this; the wakelock ends by then anyway. */
        const val WAKELOCK_TIMEOUT_MS = 60_000L
    }
}

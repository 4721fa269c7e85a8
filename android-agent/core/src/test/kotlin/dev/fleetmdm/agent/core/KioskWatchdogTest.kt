package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.kiosk.KioskLauncher
import dev.fleetmdm.agent.core.kiosk.KioskProbe
import dev.fleetmdm.agent.core.kiosk.KioskState
import dev.fleetmdm.agent.core.kiosk.KioskWatchdog
import dev.fleetmdm.agent.core.kiosk.WatchdogAction
import dev.fleetmdm.agent.core.net.Backoff
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class KioskWatchdogTest {
    private val clock = ManualClock()
    private var state = KioskState(true, true, true, 16)
    private val launches = ArrayList<String>()
    private val restarts = ArrayList<String>()
    private var launchWorks = true
    private val events = EventQueue(nowMs = clock.now)
    private val watchdog = KioskWatchdog(
        object : KioskProbe {
            override fun state(packageName: String) = state
        },
        object : KioskLauncher {
            override fun launch(packageName: String): Boolean {
                launches.add(packageName)
                return launchWorks
            }

            override fun forceRestart(packageName: String): String? {
                restarts.add(packageName)
                return if (launchWorks) null else "hide refused"
            }
        },
        events, Backoff(10_000, 300_000, jitter = 0.0), clock.now, testLogger(), graceMs = 5_000, frozenAfterMs = 30_000,
        restartFrozenAfterMs = 120_000, stableMs = 30_000
    )

    private fun check(afterMs: Long = 0): WatchdogAction {
        clock.ms += afterMs
        return watchdog.check("com.example.kiosk")
    }

    @Test
    fun `a healthy app is left alone`() {
        assertEquals(WatchdogAction.NONE, check())
        assertEquals(WatchdogAction.NONE, watchdog.check(null))
        assertEquals(0, launches.size)
        assertEquals(0, events.size())
    }

    @Test
    fun `an app that left the foreground is relaunched after the grace period`() {
        state = KioskState(true, true, false, 16)
        assertEquals(WatchdogAction.WAITING, check())
        assertEquals(WatchdogAction.WAITING, check(4_000))
        assertEquals(WatchdogAction.RELAUNCHED, check(1_000))
        assertEquals(listOf("com.example.kiosk"), launches)
        val event = events.take().single()
        assertEquals("app.relaunched", event.type)
        assertEquals("not_foreground", event.data!!["reason"])
    }

    @Test
    fun `relaunches that do not help are spaced out, and recovery resets them`() {
        state = KioskState(true, false, false, null)
        launchWorks = false
        check()
        assertEquals(WatchdogAction.LAUNCH_FAILED, check(5_000))
        assertEquals(WatchdogAction.WAITING, check(9_000))
        assertEquals(WatchdogAction.LAUNCH_FAILED, check(1_000))
        assertEquals(WatchdogAction.WAITING, check(19_000))
        assertEquals(WatchdogAction.LAUNCH_FAILED, check(1_000))
        assertEquals(3, launches.size)
        state = KioskState(true, true, true, 16)
        assertEquals(WatchdogAction.NONE, check(1_000))
        // Recovered only once it stayed in front for 30 s: a crash two seconds in is still the loop.
        assertEquals(listOf("app.relaunched", "app.relaunched", "app.relaunched"), events.take().map { it.type })
        assertEquals(WatchdogAction.NONE, check(30_000))
        assertEquals(listOf("app.recovered"), events.take().map { it.type })
        assertEquals(0, watchdog.policy.attempts)
    }

    @Test
    fun `the home screen showing brings the app back at once, but through the same backoff`() {
        state = KioskState(true, false, false, null)
        assertEquals(WatchdogAction.RELAUNCHED, watchdog.onHomeShown("com.example.kiosk"))
        assertEquals("home", events.take().single().data!!["reason"])
        // The app exits again right away: the home screen resumes again, and waits.
        clock.ms += 1_000
        assertEquals(WatchdogAction.WAITING, watchdog.onHomeShown("com.example.kiosk"))
        assertEquals(9_000L, watchdog.waitMs())
        assertEquals(WatchdogAction.WAITING, check(1_000)) // the periodic check shares the schedule
        clock.ms += 8_000
        assertEquals(WatchdogAction.RELAUNCHED, watchdog.onHomeShown("com.example.kiosk"))
        assertEquals(2, launches.size)
    }

    @Test
    fun `an app whose state cannot be seen is never restarted on a guess`() {
        state = KioskState(true, false, false, null, known = false)
        for (i in 0 until 20) assertEquals(WatchdogAction.UNKNOWN, check(60_000))
        assertEquals(0, launches.size)
        // Only the home screen showing is certain.
        assertEquals(WatchdogAction.RELAUNCHED, watchdog.onHomeShown("com.example.kiosk"))
    }

    @Test
    fun `a crash loop is reported once and starts stay spaced out`() {
        state = KioskState(true, false, false, null)
        var last = 0L
        val gaps = ArrayList<Long>()
        for (i in 0 until 400) {
            if (check(1_000) == WatchdogAction.RELAUNCHED) {
                if (last > 0) gaps.add(clock.ms - last)
                last = clock.ms
            }
        }
        assertEquals(listOf(10_000L, 20_000L, 40_000L, 80_000L, 160_000L), gaps.take(5))
        assertEquals(1, events.take(200).count { it.type == "app.crash_loop" })
    }

    @Test
    fun `a frozen app is force-restarted after the restart delay, with attempt and outcome reported`() {
        state = KioskState(true, true, true, 100_000)
        assertEquals(WatchdogAction.WAITING, check())
        state = KioskState(true, true, true, 121_000)
        assertEquals(WatchdogAction.RESTARTED, check(21_000))
        assertEquals(listOf("com.example.kiosk"), restarts)
        assertEquals(0, launches.size)
        val restart = events.take().map { it.type to it.data }
        assertEquals(listOf("app.frozen", "app.force_restart"), restart.map { it.first })
        assertEquals(true, restart[1].second!!["ok"])
        assertEquals(1, restart[1].second!!["attempt"])
        // It renders again: recovered.
        state = KioskState(true, true, true, 20)
        check(5_000)
        val outcome = events.take().single()
        assertEquals("app.force_restart_result", outcome.type)
        assertEquals(true, outcome.data!!["recovered"])
    }

    @Test
    fun `a force restart that does not help is reported as such`() {
        state = KioskState(true, true, true, 200_000)
        assertEquals(WatchdogAction.RESTARTED, check())
        assertEquals(WatchdogAction.WAITING, check(30_000))
        check(31_000)
        val types = events.take().map { it.type to it.data?.get("recovered") }
        assertTrue(types.contains("app.force_restart_result" to false), types.toString())
        launchWorks = false
        check(60_000)
        assertEquals(false, events.take().first { it.type == "app.force_restart" }.data!!["ok"])
    }

    @Test
    fun `a frozen app is reported once per freeze, and not killed before the restart delay`() {
        state = KioskState(true, true, true, 45_000)
        check()
        check(5_000)
        state = KioskState(true, true, true, 20)
        check(5_000)
        state = KioskState(true, true, true, 31_000)
        check(5_000)
        assertEquals(listOf("app.frozen", "app.frozen"), events.take().map { it.type })
        assertEquals(0, launches.size)
    }

    @Test
    fun `a missing app is reported once`() {
        state = KioskState(false, false, false, null)
        assertEquals(WatchdogAction.MISSING, check())
        assertEquals(WatchdogAction.MISSING, check(60_000))
        assertEquals(listOf("app.missing"), events.take().map { it.type })
        assertEquals(0, launches.size)
    }
}

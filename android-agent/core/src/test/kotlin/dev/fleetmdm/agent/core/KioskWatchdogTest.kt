package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.kiosk.KioskLauncher
import dev.fleetmdm.agent.core.kiosk.KioskProbe
import dev.fleetmdm.agent.core.kiosk.KioskState
import dev.fleetmdm.agent.core.kiosk.KioskWatchdog
import dev.fleetmdm.agent.core.kiosk.WatchdogAction
import dev.fleetmdm.agent.core.net.Backoff
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class KioskWatchdogTest {
    private val clock = ManualClock()
    private var state = KioskState(true, true, true, 16)
    private val launches = ArrayList<String>()
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
        },
        events, Backoff(10_000, 300_000, jitter = 0.0), clock.now, testLogger(), graceMs = 5_000, frozenAfterMs = 30_000
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
        assertEquals(listOf("app.relaunched", "app.relaunched", "app.relaunched", "app.recovered"), events.take().map { it.type })
    }

    @Test
    fun `a frozen app is reported once per freeze, not killed`() {
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

package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.EnrollOutcome
import dev.fleetmdm.agent.core.agent.MemoryCredentialStore
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.MemoryHeartbeatBuffer
import dev.fleetmdm.agent.core.kiosk.KioskLauncher
import dev.fleetmdm.agent.core.kiosk.KioskProbe
import dev.fleetmdm.agent.core.kiosk.KioskState
import dev.fleetmdm.agent.core.kiosk.KioskWatchdog
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.Executor

/** The findings of issue 17 that show in the core, each reproduced before it was fixed. */
class FieldFindingsTest {
    private val server = FakeServer()
    private val clock = ManualClock()
    private val credentials = MemoryCredentialStore()

    private fun agent() = Agent(
        AgentParts(
            "1.0.0", { DeviceInfo("Pixel 7", "Google", "14", 34, null, "1.0.0") }, credentials, MemorySettingsStore(),
            server, FixedTelemetry(), MemoryHeartbeatBuffer(), EventQueue(nowMs = clock.now), BoundedReplayStore(),
            { emptyMap() }, Executor { it.run() }, null, clock.now, testLogger()
        )
    )

    @Test
    fun `one 401 invalid_credentials does not wipe the identity`() {
        val agent = agent()
        assertTrue(agent.enroll("https://mdm.test", "mdmet_good") is EnrollOutcome.Enrolled)
        agent.heartbeat()
        server.deviceKnown = false // a database restored from an older backup, say
        agent.heartbeat()
        assertTrue(agent.isEnrolled(), "the identity survives a refused session")
        server.deviceKnown = true
        clock.ms += 3_600_000
        assertTrue(agent.heartbeat().sent, "and works again once the server knows the device")
    }

    @Test
    fun `an http server URL is refused unless cleartext is explicitly allowed`() {
        val outcome = agent().enroll("http://mdm.test", "mdmet_good")
        assertTrue(outcome is EnrollOutcome.Refused, "http:// must not be accepted by default")
        assertEquals(0, server.requests.size)
    }

    @Test
    fun `an app that crashes right after each start is not relaunched on every check`() {
        var state = KioskState(true, false, false, null)
        val launches = ArrayList<Long>()
        val watchdog = KioskWatchdog(
            object : KioskProbe { override fun state(packageName: String) = state },
            object : KioskLauncher {
                override fun launch(packageName: String): Boolean {
                    launches.add(clock.ms)
                    return true
                }
            },
            EventQueue(nowMs = clock.now), Backoff(10_000, 300_000, jitter = 0.0), clock.now, testLogger()
        )
        // Each launch shows the app for one check (5 s), then it dies again - for ten minutes.
        for (i in 0 until 120) {
            watchdog.check("com.example.kiosk")
            state = if (launches.isNotEmpty() && launches.last() == clock.ms) KioskState(true, true, true, 16) else KioskState(true, false, false, null)
            clock.ms += 5_000
        }
        assertTrue(launches.size <= 10, "a crash loop must back off, got ${launches.size} launches in 10 minutes")
    }
}

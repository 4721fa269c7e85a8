package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentLoop
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.MemoryCredentialStore
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.agent.Wake
import dev.fleetmdm.agent.core.agent.Wakeup
import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.MemoryHeartbeatBuffer
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.Executor

class AgentLoopTest {
    private val server = FakeServer()
    private val clock = ManualClock()

    private fun agent(nowMs: () -> Long) = Agent(
        AgentParts(
            "1.0.0", { DeviceInfo("Pixel 7", "Google", "14", 34, null, "1.0.0") }, MemoryCredentialStore(), MemorySettingsStore(),
            server, FixedTelemetry(), MemoryHeartbeatBuffer(), EventQueue(nowMs = nowMs), BoundedReplayStore(),
            { emptyMap() }, Executor { it.run() }, null, nowMs, testLogger()
        )
    )

    @Test
    fun `beats on the interval, retries the buffer on backoff while offline`() {
        server.nextHeartbeatSec = 120
        val agent = agent(clock.now)
        val loop = AgentLoop(agent, Backoff(1000, 60_000, jitter = 0.0), clock.now, { 0.5 }, testLogger())
        loop.step()
        assertEquals(AgentLoop.NOT_ENROLLED_WAIT_MS, loop.waitMs())
        agent.enroll("https://mdm.test", "mdmet_good")
        loop.step()
        assertEquals(1, server.heartbeats.size)
        assertEquals(120_000L, loop.waitMs())

        clock.ms += 120_000
        server.offline = true
        loop.step()
        assertEquals(1, agent.bufferedHeartbeats())
        assertEquals(1000L, loop.waitMs())
        clock.ms += 1000
        loop.step() // not due: an upload attempt only, which fails too
        assertEquals(1, agent.bufferedHeartbeats())
        assertEquals(2000L, loop.waitMs())
        assertEquals(1, server.heartbeats.size)

        server.offline = false
        clock.ms += 2000
        loop.step()
        assertEquals(0, agent.bufferedHeartbeats())
        assertEquals(2, server.heartbeats.size)
        assertEquals(117_000L, loop.waitMs())
    }

    @Test
    fun `the running loop beats at once when asked and stops promptly`() {
        val agent = agent({ System.currentTimeMillis() })
        agent.enroll("https://mdm.test", "mdmet_good")
        val loop = AgentLoop(agent, Backoff(1000, 60_000), { System.currentTimeMillis() }, { 0.5 }, testLogger())
        val thread = Thread { loop.run() }
        thread.start()
        waitFor { server.heartbeats.size == 1 }
        Thread.sleep(200)
        // The heartbeat asked for at enrollment was the first one, not another.
        assertEquals(1, server.heartbeats.size)
        agent.heartbeatNow()
        waitFor { server.heartbeats.size == 2 }
        loop.stop()
        thread.join(5000)
        assertFalse(thread.isAlive)
    }

    @Test
    fun `a wakeup request is not lost when it comes before the wait`() {
        val w = Wakeup()
        w.requestFlush()
        assertEquals(Wake.FLUSH, w.await(10_000))
        w.requestFlush()
        w.requestBeat()
        assertEquals(Wake.BEAT, w.await(10_000))
        assertEquals(Wake.TIMEOUT, w.await(10))
    }

    private fun waitFor(condition: () -> Boolean) {
        val deadline = System.currentTimeMillis() + 5000
        while (!condition()) {
            assertTrue(System.currentTimeMillis() < deadline, "timed out")
            Thread.sleep(10)
        }
    }
}

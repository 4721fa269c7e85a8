package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentLoop
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.MemoryCredentialStore
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.agent.Wake
import dev.fleetmdm.agent.core.agent.Wakeup
import dev.fleetmdm.agent.core.agent.AlarmKind
import dev.fleetmdm.agent.core.agent.AlarmPlan
import dev.fleetmdm.agent.core.agent.AlarmPlanner
import dev.fleetmdm.agent.core.agent.AlarmPort
import dev.fleetmdm.agent.core.agent.WakeLock
import dev.fleetmdm.agent.core.agent.monotonicClock
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
        val loop = AgentLoop(agent, Backoff(1000, 60_000, jitter = 0.0), monotonicClock(clock.now), { 0.5 }, testLogger())
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
        val loop = AgentLoop(agent, Backoff(1000, 60_000), monotonicClock { System.nanoTime() / 1_000_000 }, { 0.5 }, testLogger())
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
    fun `the schedule runs on elapsed time, so a wall clock jumped back an hour does not postpone the beat`() {
        val wall = ManualClock()
        val elapsed = ManualClock(1_000_000)
        server.nextHeartbeatSec = 300
        val agent = agent(wall.now)
        agent.enroll("https://mdm.test", "mdmet_good")
        val loop = AgentLoop(agent, Backoff(1000, 60_000, jitter = 0.0), monotonicClock(elapsed.now), { 0.5 }, testLogger())
        loop.step()
        assertEquals(1, server.heartbeats.size)
        wall.ms -= 3_600_000 // NTP corrects the wall clock by an hour backwards
        elapsed.ms += 300_000
        assertEquals(0L, loop.waitMs())
        loop.step()
        assertEquals(2, server.heartbeats.size)
    }

    @Test
    fun `every turn runs under the wakelock and sets an alarm for the next one`() {
        val elapsed = ManualClock(5_000_000)
        server.nextHeartbeatSec = 300
        val agent = agent(clock.now)
        agent.enroll("https://mdm.test", "mdmet_good")
        val plans = ArrayList<AlarmPlan>()
        var exact = true
        val alarms = object : AlarmPort {
            override fun exactAllowed() = exact
            override fun set(plan: AlarmPlan) { plans.add(plan) }
            override fun cancel() { plans.clear() }
        }
        var held = false
        val beatsUnderLock = ArrayList<Boolean>()
        val lock = object : WakeLock {
            override fun <T> holding(timeoutMs: Long, block: () -> T): T {
                assertEquals(AgentLoop.WAKELOCK_TIMEOUT_MS, timeoutMs)
                held = true
                try {
                    val before = server.heartbeats.size
                    val out = block()
                    if (server.heartbeats.size > before) beatsUnderLock.add(true)
                    return out
                } finally {
                    held = false
                }
            }
        }
        val loop = AgentLoop(agent, Backoff(1000, 60_000, jitter = 0.0), monotonicClock(elapsed.now), { 0.5 }, testLogger(), alarms, lock)
        loop.turn()
        assertEquals(listOf(true), beatsUnderLock)
        assertFalse(held)
        assertEquals(AlarmKind.EXACT_WHILE_IDLE, plans.last().kind)
        assertEquals(5_300_000L, plans.last().triggerAtElapsedMs)
        // Offline: the next turn is an upload retry on the backoff; without exact alarms, the while-idle kind.
        exact = false
        server.offline = true
        elapsed.ms += 300_000
        loop.turn()
        assertEquals(AlarmKind.INEXACT_WHILE_IDLE, plans.last().kind)
        assertEquals(elapsed.ms + 1000, plans.last().triggerAtElapsedMs)
        loop.stop()
        assertTrue(plans.isEmpty())
    }

    @Test
    fun `an unenrolled agent sets no alarm`() {
        val plans = ArrayList<AlarmPlan>()
        val alarms = object : AlarmPort {
            override fun exactAllowed() = true
            override fun set(plan: AlarmPlan) { plans.add(plan) }
            override fun cancel() {}
        }
        val loop = AgentLoop(agent(clock.now), Backoff(1000, 60_000), monotonicClock(clock.now), { 0.5 }, testLogger(), alarms)
        loop.turn()
        assertTrue(plans.isEmpty())
    }

    @Test
    fun `alarms are never set in the past or for right now`() {
        assertEquals(10_000L, AlarmPlanner.plan(10_000, 2_000, true).triggerAtElapsedMs)
        assertEquals(3_000L, AlarmPlanner.plan(1_000, 2_000, false).triggerAtElapsedMs)
        assertEquals(AlarmKind.INEXACT_WHILE_IDLE, AlarmPlanner.plan(1_000, 2_000, false).kind)
    }

    @Test
    fun `an alarm tick wakes the waiting loop without forcing a beat`() {
        val w = Wakeup()
        w.requestTick()
        assertEquals(Wake.TICK, w.await(10_000))
        w.requestTick()
        w.requestBeat()
        assertEquals(Wake.BEAT, w.await(10_000))
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

package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.command.Channel
import dev.fleetmdm.agent.core.command.CommandDispatcher
import dev.fleetmdm.agent.core.command.CommandExecutor
import dev.fleetmdm.agent.core.command.EnvelopeVerifier
import dev.fleetmdm.agent.core.command.ExecutionResult
import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.command.Verdict
import dev.fleetmdm.agent.core.command.executor
import dev.fleetmdm.agent.core.protocol.CommandResult
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.ArrayDeque
import java.util.concurrent.Executor

class CommandDispatcherTest {
    /** Everything that happened, in order: reports and executor side effects. */
    private val timeline = ArrayList<String>()
    private val queued = ArrayDeque<Runnable>()
    private var deferRuns = false

    private val reporter = object : ResultReporter {
        override fun report(cid: String, result: CommandResult) {
            timeline.add("report $cid ${result.status}" + (result.output?.let { " out=$it" } ?: "") + (result.error?.let { " err=$it" } ?: ""))
        }
    }

    private val runner = Executor { task -> if (deferRuns) queued.add(task) else task.run() }

    private fun dispatcher(executors: Map<String, CommandExecutor>) = CommandDispatcher(
        EnvelopeVerifier(DEVICE_ID, HMAC_KEY, BoundedReplayStore()), executors, reporter, runner, { NOW_SEC * 1000 }, testLogger()
    )

    private val ping = executor {
        timeline.add("ping ${it.cid}")
        ExecutionResult.succeeded("pong")
    }

    @Test
    fun `an accepted command is reported delivered, executed, then reported with its result`() {
        val verdict = dispatcher(mapOf("PING" to ping)).receive(signedEnvelope("c1"), Channel.HEARTBEAT)
        assertTrue(verdict is Verdict.Accepted)
        assertEquals(listOf("report c1 delivered", "ping c1", "report c1 succeeded out=pong"), timeline)
    }

    @Test
    fun `the same command by heartbeat and by push runs once`() {
        val d = dispatcher(mapOf("PING" to ping))
        d.receive(signedEnvelope("c2"), Channel.HEARTBEAT)
        val again = d.receive(signedEnvelope("c2").toMap(), Channel.PUSH)
        assertEquals("replayed", (again as Verdict.Rejected).reason.code)
        // A replay is not reported: the command already has its result.
        assertEquals(listOf("report c2 delivered", "ping c2", "report c2 succeeded out=pong"), timeline)
    }

    @Test
    fun `an unknown type is rejected and nothing runs`() {
        dispatcher(mapOf("PING" to ping)).receive(signedEnvelope("c3", type = "SELF_DESTRUCT"), Channel.PUSH)
        assertEquals(listOf("report c3 rejected err=unknown command type SELF_DESTRUCT"), timeline)
    }

    @Test
    fun `an executor that throws is reported failed`() {
        val broken = executor { throw IllegalStateException("no lock task permission") }
        dispatcher(mapOf("LOCK" to broken)).receive(signedEnvelope("c4", type = "LOCK"), Channel.HEARTBEAT)
        assertEquals(listOf("report c4 delivered", "report c4 failed err=IllegalStateException: no lock task permission"), timeline)
    }

    @Test
    fun `a follow-up action runs only after the final result was reported`() {
        val reboot = executor { ExecutionResult.succeeded("rebooting") { timeline.add("reboot now") } }
        dispatcher(mapOf("REBOOT" to reboot)).receive(signedEnvelope("c5", type = "REBOOT"), Channel.PUSH)
        assertEquals(listOf("report c5 delivered", "report c5 succeeded out=rebooting", "reboot now"), timeline)
    }

    @Test
    fun `refusals naming this device are reported rejected, others are not`() {
        val d = dispatcher(mapOf("PING" to ping))
        d.receive(signedEnvelope("c6").copy(params = "{\"x\":1}"), Channel.PUSH)
        d.receive(signedEnvelope("c7", did = "0e9d8c7b-6a59-4847-a635-241302f1e0d9"), Channel.PUSH)
        d.receive(signedEnvelope("c8", exp = NOW_SEC - 3600, iat = NOW_SEC - 7200), Channel.PUSH)
        d.receive(mapOf("v" to "1", "cid" to "c9"), Channel.PUSH)
        assertEquals(listOf("report c6 rejected err=bad_signature", "report c8 rejected err=expired"), timeline)
    }

    @Test
    fun `verification happens at once, execution on the runner`() {
        deferRuns = true
        val d = dispatcher(mapOf("PING" to ping))
        d.receive(signedEnvelope("c10"), Channel.PUSH)
        assertEquals(emptyList<String>(), timeline)
        // The cid is taken at verification: a second delivery before the first ran is a replay.
        assertEquals("replayed", (d.receive(signedEnvelope("c10"), Channel.HEARTBEAT) as Verdict.Rejected).reason.code)
        queued.poll().run()
        assertEquals(listOf("report c10 delivered", "ping c10", "report c10 succeeded out=pong"), timeline)
        assertTrue(queued.isEmpty())
    }

    @Test
    fun `a command cancelled by the heartbeat answer is reported cancelled and never runs, whenever its envelope comes`() {
        val d = dispatcher(mapOf("PING" to ping))
        assertEquals(1, d.cancel(listOf("k1")))
        val later = d.receive(signedEnvelope("k1"), Channel.PUSH)
        assertEquals("replayed", (later as Verdict.Rejected).reason.code)
        // named again in the next answer (the report may not have arrived yet): nothing new
        assertEquals(0, d.cancel(listOf("k1")))
        assertEquals(listOf("report k1 cancelled"), timeline)
    }

    @Test
    fun `a cancel for a command that already ran sends nothing, its result is on its way`() {
        val d = dispatcher(mapOf("PING" to ping))
        d.receive(signedEnvelope("k2"), Channel.HEARTBEAT)
        assertEquals(0, d.cancel(listOf("k2")))
        assertEquals(listOf("report k2 delivered", "ping k2", "report k2 succeeded out=pong"), timeline)
    }

    @Test
    fun `a signed CANCEL by push stops the command before its envelope arrives`() {
        val d = dispatcher(mapOf("PING" to ping))
        val cancel = d.receive(signedEnvelope("k3", type = CommandDispatcher.CANCEL), Channel.PUSH)
        assertTrue(cancel is Verdict.Accepted)
        val command = d.receive(signedEnvelope("k3"), Channel.HEARTBEAT)
        assertEquals("replayed", (command as Verdict.Rejected).reason.code)
        assertEquals(listOf("report k3 cancelled"), timeline)
    }

    @Test
    fun `a forged CANCEL is refused like any envelope with a bad signature`() {
        val d = dispatcher(mapOf("PING" to ping))
        d.receive(signedEnvelope("k4", type = CommandDispatcher.CANCEL, key = "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY="), Channel.PUSH)
        d.receive(signedEnvelope("k4"), Channel.HEARTBEAT)
        assertEquals(listOf("report k4 rejected err=bad_signature", "report k4 delivered", "ping k4", "report k4 succeeded out=pong"), timeline)
    }
}

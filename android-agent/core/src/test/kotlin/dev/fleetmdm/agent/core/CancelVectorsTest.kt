package dev.fleetmdm.agent.core

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.command.Channel
import dev.fleetmdm.agent.core.command.CommandDispatcher
import dev.fleetmdm.agent.core.command.EnvelopeVerifier
import dev.fleetmdm.agent.core.command.ExecutionResult
import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.command.executor
import dev.fleetmdm.agent.core.protocol.CommandResult
import dev.fleetmdm.agent.core.protocol.Json
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import java.nio.charset.StandardCharsets
import java.util.concurrent.Executor

/**
 * The shared cancel vectors of docs/vectors/cancel.json (on the test classpath through test.sh), which
 * the simulator checks too: a cancelled command never runs, whichever way the cancel came.
 */
class CancelVectorsTest {
    private val vectors: JsonObject = load()

    @TestFactory
    fun scenarios(): List<DynamicTest> = vectors.getAsJsonArray("scenarios").map { element ->
        val case = element.asJsonObject
        DynamicTest.dynamicTest(case.get("name").asString) { run(case) }
    }

    private fun run(case: JsonObject) {
        val device = vectors.getAsJsonObject("device")
        val now = vectors.get("now").asLong
        val executed = ArrayList<String>()
        val cancelled = ArrayList<String>()
        val reporter = object : ResultReporter {
            override fun report(cid: String, result: CommandResult) {
                if (result.status == "cancelled") cancelled.add(cid)
            }
        }
        val run = executor {
            executed.add(it.cid)
            ExecutionResult.succeeded(null)
        }
        val dispatcher = CommandDispatcher(
            EnvelopeVerifier(device.get("deviceId").asString, device.get("hmacKey").asString, BoundedReplayStore()),
            mapOf("REBOOT" to run, "LOCK" to run, "PING" to run),
            reporter,
            Executor { it.run() },
            { now * 1000 },
            testLogger()
        )
        for (stepElement in case.getAsJsonArray("steps")) {
            val step = stepElement.asJsonObject
            if (step.has("cancelled")) {
                dispatcher.cancel(step.getAsJsonArray("cancelled").map { it.asString })
            } else {
                val raw = LinkedHashMap<String, Any?>()
                for ((key, value) in step.getAsJsonObject("envelope").entrySet()) raw[key] = value.asString
                dispatcher.receive(raw, Channel.PUSH)
            }
        }
        assertEquals(case.getAsJsonArray("executed").map { it.asString }, executed)
        assertEquals(case.getAsJsonArray("reportedCancelled").map { it.asString }, cancelled)
    }

    private fun load(): JsonObject {
        val stream = CancelVectorsTest::class.java.getResourceAsStream("/vectors/cancel.json")
        assertNotNull(stream, "docs/vectors/cancel.json must be on the test classpath (test.sh adds docs/)")
        return Json.parseObject(String(stream!!.readBytes(), StandardCharsets.UTF_8))!!
    }
}

package dev.fleetmdm.agent.core

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.command.EnvelopeSignature
import dev.fleetmdm.agent.core.command.EnvelopeVerifier
import dev.fleetmdm.agent.core.command.Verdict
import dev.fleetmdm.agent.core.protocol.Json
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.nio.charset.StandardCharsets
import java.util.Base64

/**
 * The shared vectors of android-agent/core/src/test/resources/vectors/envelopes.json, which the
 * server's signer and the simulator's verifier check too.
 */
class EnvelopeVectorsTest {
    private val vectors: JsonObject = loadVectors()
    private val skew = vectors.get("clockSkewSec").asLong

    private fun device(name: String): JsonObject = vectors.getAsJsonObject("devices").getAsJsonObject(name)

    private fun verifierFor(deviceName: String): EnvelopeVerifier {
        val d = device(deviceName)
        return EnvelopeVerifier(d.get("deviceId").asString, d.get("hmacKey").asString, BoundedReplayStore(), skew)
    }

    private fun rawEnvelope(case: JsonObject): Map<String, Any?> {
        val out = LinkedHashMap<String, Any?>()
        for ((key, value) in case.getAsJsonObject("envelope").entrySet()) {
            out[key] = if (value.isJsonPrimitive && value.asJsonPrimitive.isString) value.asString else value
        }
        return out
    }

    @Test
    fun `the vectors hold cases of every kind`() {
        assertEquals(60L, skew)
        assertTrue(vectors.getAsJsonArray("valid").size() >= 5)
        assertTrue(vectors.getAsJsonArray("invalid").size() >= 10)
        assertTrue(vectors.getAsJsonArray("replay").size() >= 1)
    }

    @TestFactory
    fun `valid envelopes are accepted and signed as the protocol says`(): List<DynamicTest> =
        vectors.getAsJsonArray("valid").map { it.asJsonObject }.map { case ->
            DynamicTest.dynamicTest(case.get("name").asString) {
                val env = case.getAsJsonObject("envelope")
                val input = EnvelopeSignature.signingInput(
                    env.get("cid").asString, env.get("did").asString, env.get("type").asString,
                    env.get("params").asString, env.get("iat").asString, env.get("exp").asString
                )
                assertEquals(case.get("signingInput").asString, input)
                val key = Base64.getDecoder().decode(device(case.get("device").asString).get("hmacKey").asString)
                assertEquals(env.get("sig").asString, EnvelopeSignature.sign(key, input))
                val verdict = verifierFor(case.get("device").asString).verify(rawEnvelope(case), case.get("now").asLong)
                assertTrue(verdict is Verdict.Accepted, "expected accepted, got ${describe(verdict)}")
                val accepted = verdict as Verdict.Accepted
                assertEquals(env.get("cid").asString, accepted.envelope.cid)
                assertEquals(Json.parseObject(env.get("params").asString), accepted.params)
            }
        }

    @TestFactory
    fun `invalid envelopes are refused for the given reason`(): List<DynamicTest> =
        vectors.getAsJsonArray("invalid").map { it.asJsonObject }.map { case ->
            DynamicTest.dynamicTest(case.get("name").asString + " -> " + case.get("reason").asString) {
                val verdict = verifierFor(case.get("device").asString).verify(rawEnvelope(case), case.get("now").asLong)
                assertTrue(verdict is Verdict.Rejected, "expected rejected, got ${describe(verdict)}")
                assertEquals(case.get("reason").asString, (verdict as Verdict.Rejected).reason.code)
            }
        }

    @TestFactory
    fun `a replayed cid is refused`(): List<DynamicTest> =
        vectors.getAsJsonArray("replay").map { it.asJsonObject }.map { case ->
            DynamicTest.dynamicTest(case.get("name").asString) {
                val verifier = verifierFor(case.get("device").asString)
                val now = case.get("now").asLong
                val outcomes = case.getAsJsonArray("envelopes").map { element ->
                    val raw = HashMap<String, Any?>()
                    for ((key, value) in element.asJsonObject.entrySet()) raw[key] = value.asString
                    val verdict = verifier.verify(raw, now)
                    if (verdict is Verdict.Accepted) "accept" else (verdict as Verdict.Rejected).reason.code
                }
                assertEquals(case.getAsJsonArray("expect").map { it.asString }, outcomes)
            }
        }

    private fun describe(v: Verdict): String = when (v) {
        is Verdict.Accepted -> "accepted"
        is Verdict.Rejected -> "rejected(${v.reason.code})"
    }

    companion object {
        fun loadVectors(): JsonObject {
            val stream = EnvelopeVectorsTest::class.java.getResourceAsStream("/vectors/envelopes.json")
            assertNotNull(stream, "vectors/envelopes.json must be on the test classpath")
            val text = String(stream!!.readBytes(), StandardCharsets.UTF_8)
            return Json.parseObject(text)!!
        }
    }
}

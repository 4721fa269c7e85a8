package dev.fleetmdm.agent.core

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.policy.ItemStatus
import dev.fleetmdm.agent.core.policy.PolicyApplier
import dev.fleetmdm.agent.core.policy.PolicyPort
import dev.fleetmdm.agent.core.policy.PolicyVerdict
import dev.fleetmdm.agent.core.policy.PolicyVerifier
import dev.fleetmdm.agent.core.protocol.Json
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import java.nio.charset.StandardCharsets

/**
 * The shared policy vectors of docs/vectors/policy.json (on the test classpath through test.sh),
 * which the server's signer and the simulator's verifier check too.
 */
class PolicyVectorsTest {
    private val vectors: JsonObject = load()
    private val device = vectors.getAsJsonObject("device")
    private val now = vectors.get("now").asLong
    private val verifier = PolicyVerifier(device.get("deviceId").asString, device.get("hmacKey").asString)

    private fun raw(envelope: JsonObject): Map<String, Any?> {
        val out = LinkedHashMap<String, Any?>()
        for ((key, value) in envelope.entrySet()) out[key] = value.asString
        return out
    }

    @Test
    fun `the canonical JSON hashes to the vector's hash`() {
        assertEquals(vectors.get("hash").asString, PolicyVerifier.sha256Hex(vectors.get("canonical").asString))
    }

    @Test
    fun `the signed document is accepted, and accepted again since policies have no replay check`() {
        for (i in 0..1) {
            val verdict = verifier.verify(raw(vectors.getAsJsonObject("envelope")), now)
            assertTrue(verdict is PolicyVerdict.Accepted, "accepted")
            val accepted = verdict as PolicyVerdict.Accepted
            assertEquals(vectors.get("hash").asString, accepted.hash)
            assertEquals(vectors.getAsJsonObject("document"), accepted.document)
        }
    }

    @TestFactory
    fun `tampered envelopes are refused`(): List<DynamicTest> = vectors.getAsJsonArray("tampered").map { it.asJsonObject }.map { case ->
        DynamicTest.dynamicTest(case.get("name").asString) {
            val verdict = verifier.verify(raw(case.getAsJsonObject("envelope")), now)
            assertTrue(verdict is PolicyVerdict.Rejected, "rejected")
            assertEquals(case.get("reject").asString, (verdict as PolicyVerdict.Rejected).reason)
        }
    }

    @Test
    fun `applying reports each item as applied, failed with the reason, or unsupported below its API level`() {
        val applied = ArrayList<String>()
        val port = object : PolicyPort {
            override val sdkInt = 26
            override fun apply(item: String, value: JsonElement) {
                if (item == "userRestrictions") throw SecurityException("not the device owner")
                applied.add(item)
            }
        }
        val applier = PolicyApplier(port)
        val document = vectors.getAsJsonObject("document")
        val results = applier.apply(document)
        assertEquals(document.entrySet().map { it.key }.sorted(), results.map { it.item })
        val byItem = results.associateBy { it.item }
        assertEquals(ItemStatus.UNSUPPORTED, byItem["lockTaskFeatures"]!!.status)
        assertEquals("needs API 28 (device has 26)", byItem["lockTaskFeatures"]!!.reason)
        assertEquals(ItemStatus.FAILED, byItem["userRestrictions"]!!.status)
        assertEquals("not the device owner", byItem["userRestrictions"]!!.reason)
        assertEquals(ItemStatus.APPLIED, byItem["kioskApp"]!!.status)
        assertTrue(applied.contains("kioskPermissions"))
        val report = applier.report(vectors.get("hash").asString, results)
        assertEquals(vectors.get("hash").asString, report.get("hash").asString)
        assertEquals("failed", report.getAsJsonArray("items").map { it.asJsonObject }.first { it.get("item").asString == "userRestrictions" }.get("status").asString)
    }

    private fun load(): JsonObject {
        val stream = PolicyVectorsTest::class.java.getResourceAsStream("/vectors/policy.json")
        assertNotNull(stream, "docs/vectors/policy.json must be on the test classpath (test.sh adds docs/)")
        return Json.parseObject(String(stream!!.readBytes(), StandardCharsets.UTF_8))!!
    }
}

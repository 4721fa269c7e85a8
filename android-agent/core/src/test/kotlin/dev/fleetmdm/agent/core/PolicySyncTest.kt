package dev.fleetmdm.agent.core

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.BeatReport
import dev.fleetmdm.agent.core.agent.EnrollOutcome
import dev.fleetmdm.agent.core.agent.MemoryCredentialStore
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.MemoryHeartbeatBuffer
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.policy.PolicyOutcome
import dev.fleetmdm.agent.core.policy.PolicyPort
import dev.fleetmdm.agent.core.policy.PolicyStateStore
import dev.fleetmdm.agent.core.policy.PolicyVerifier
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import dev.fleetmdm.agent.core.protocol.string
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.io.File
import java.nio.file.Files
import java.util.concurrent.Executor

/** The agent converging to its policy (protocol v2) against the [FakeServer]. */
class PolicySyncTest {
    private val server = FakeServer()
    private val clock = ManualClock()
    private val credentials = MemoryCredentialStore()
    private val events = EventQueue(nowMs = clock.now)
    private val dir: File = Files.createTempDirectory("policy-sync").toFile().apply { deleteOnExit() }
    private val stateFile = File(dir, "policy.json")

    /** A device that records what it was told to apply; items in [failing] throw. */
    private inner class RecordingPort : PolicyPort {
        override val sdkInt = 34
        val applied = ArrayList<String>()
        val failing = HashMap<String, String>()

        override fun apply(item: String, value: JsonElement) {
            failing[item]?.let { throw IllegalStateException(it) }
            applied.add("$item=$value")
        }
    }

    private val port = RecordingPort()

    private fun agent(state: PolicyStateStore = PolicyStateStore(stateFile)) = Agent(
        AgentParts(
            agentVersion = "1.0.0",
            deviceInfo = { DeviceInfo("Pixel 7", "Google", "14", 34, "R5CT1234", "1.0.0") },
            credentials = credentials,
            settings = MemorySettingsStore("com.example.kiosk"),
            http = server,
            telemetry = FixedTelemetry(),
            buffer = MemoryHeartbeatBuffer(10),
            events = events,
            replayStore = BoundedReplayStore(),
            executors = { emptyMap() },
            commandRunner = Executor { it.run() },
            reporter = null,
            nowMs = clock.now,
            log = testLogger(),
            policyPort = port,
            policyState = state,
            // no jitter: the first retry waits exactly 60 s
            policyBackoff = Backoff(60_000, 3_600_000, random = { 0.5 })
        )
    )

    /** Publishes [canonical] as the device's effective policy; answers its hash. */
    private fun publish(canonical: String, version: Int = 1, iat: Long = NOW_SEC - 30, exp: Long = NOW_SEC + 3600): String {
        val hash = PolicyVerifier.sha256Hex(canonical)
        server.policyHash = hash
        server.policyVersion = version
        server.policyEnvelope = signedEnvelope(hash, type = "POLICY", params = canonical, iat = iat, exp = exp)
        return hash
    }

    private fun enrolled(a: Agent = agent()): Agent {
        assertTrue(a.enroll("https://mdm.test", "mdmet_good") is EnrollOutcome.Enrolled)
        return a
    }

    private fun fetches() = server.requests.count { it == "GET /api/v1/device/policy" }

    private fun lastHeartbeatPolicyHash(): String? = server.heartbeats.last().getAsJsonObject("policy")?.string("hash")

    private fun beat(a: Agent): BeatReport {
        val report = a.heartbeat()
        assertTrue(report.sent, "the heartbeat went through")
        return report
    }

    private fun items(report: JsonObject): Map<String, String> =
        report.getAsJsonArray("items").map { it.asJsonObject }.associate { it.string("item")!! to (it.string("status")!! + (it.string("reason")?.let { r -> " $r" } ?: "")) }

    @Test
    fun `converges on the first answer and says what it applied in the next heartbeat`() {
        val hash = publish("""{"heartbeatIntervalSec":120,"keyguardDisabled":true}""")
        val a = enrolled()
        assertEquals(PolicyOutcome.APPLIED, beat(a).policy)
        assertNull(server.heartbeats[0].get("policy"), "nothing applied yet: no policy member (its hash may not be absent)")
        assertEquals(listOf("heartbeatIntervalSec=120", "keyguardDisabled=true"), port.applied)
        assertEquals(1, server.policyReports.size)
        val report = server.policyReports[0]
        assertEquals(hash, report.string("hash"))
        assertEquals("2026-03-10T12:00:00Z", report.string("appliedAt"))
        assertEquals(mapOf("heartbeatIntervalSec" to "applied", "keyguardDisabled" to "applied"), items(report))
        beat(a)
        assertEquals(hash, lastHeartbeatPolicyHash())
    }

    @Test
    fun `the same hash is neither fetched nor applied again, a new one is`() {
        publish("""{"keyguardDisabled":true}""")
        val a = enrolled()
        beat(a)
        assertEquals(PolicyOutcome.UP_TO_DATE, beat(a).policy)
        assertEquals(PolicyOutcome.UP_TO_DATE, beat(a).policy)
        assertEquals(1, fetches())
        assertEquals(1, port.applied.size)

        val changed = publish("""{"keyguardDisabled":false,"timeZone":"Europe/Paris"}""", version = 2)
        assertEquals(PolicyOutcome.APPLIED, beat(a).policy)
        assertEquals(2, fetches())
        assertEquals(listOf("keyguardDisabled=true", "keyguardDisabled=false", "timeZone=\"Europe/Paris\""), port.applied)
        assertEquals(changed, server.policyReports.last().string("hash"))
        beat(a)
        assertEquals(changed, lastHeartbeatPolicyHash())
    }

    @Test
    fun `a tampered envelope is refused, never applied nor reported, and fetched again after the backoff`() {
        val hash = publish("""{"keyguardDisabled":true}""")
        val good = server.policyEnvelope!!
        // the server's hash and signature over other params: a man in the middle's document
        server.policyEnvelope = good.copy(params = """{"keyguardDisabled":false}""")
        val a = enrolled()
        assertEquals(PolicyOutcome.REFUSED, beat(a).policy)
        assertTrue(port.applied.isEmpty())
        assertTrue(server.policyReports.isEmpty())
        assertEquals("policy.refused", events.take().last().type)

        server.policyEnvelope = good
        clock.ms += 59_000
        assertEquals(PolicyOutcome.WAITING, beat(a).policy, "within the backoff: no fetch")
        assertEquals(1, fetches())
        assertNull(server.heartbeats.last().get("policy"))
        clock.ms += 1_000
        assertEquals(PolicyOutcome.APPLIED, beat(a).policy)
        assertEquals(hash, server.policyReports.single().string("hash"))
    }

    @Test
    fun `an expired or misaddressed document is refused with its reason`() {
        publish("""{"keyguardDisabled":true}""", iat = NOW_SEC - 4200, exp = NOW_SEC - 600)
        val a = enrolled()
        assertEquals(PolicyOutcome.REFUSED, beat(a).policy)
        assertEquals("expired", events.take().last().data!!["reason"])
        val canonical = """{"keyguardDisabled":true}"""
        server.policyEnvelope = signedEnvelope(PolicyVerifier.sha256Hex(canonical), type = "POLICY", params = canonical, did = "another-device")
        clock.ms += 60_000
        assertEquals(PolicyOutcome.REFUSED, beat(a).policy)
        assertEquals("wrong_device", events.take().last().data!!["reason"])
        assertTrue(port.applied.isEmpty())
        assertTrue(server.policyReports.isEmpty())
    }

    @Test
    fun `a failed item is reported with its reason and applied again after the backoff`() {
        val hash = publish("""{"keyguardDisabled":true,"userRestrictions":["no_safe_boot"]}""")
        port.failing["userRestrictions"] = "not the device owner"
        val a = enrolled()
        assertEquals(PolicyOutcome.PARTIAL, beat(a).policy)
        assertEquals(
            mapOf("keyguardDisabled" to "applied", "userRestrictions" to "failed not the device owner"),
            items(server.policyReports.single())
        )
        assertEquals(PolicyOutcome.WAITING, beat(a).policy)
        assertEquals(hash, lastHeartbeatPolicyHash(), "applied and reported, failed items and all")
        assertEquals(1, fetches())

        port.failing.clear()
        clock.ms += 60_000
        assertEquals(PolicyOutcome.APPLIED, beat(a).policy)
        assertEquals(2, server.policyReports.size)
        assertEquals(mapOf("keyguardDisabled" to "applied", "userRestrictions" to "applied"), items(server.policyReports.last()))
        assertEquals(PolicyOutcome.UP_TO_DATE, beat(a).policy)
    }

    @Test
    fun `a failed fetch or report does not fail the heartbeat and is retried`() {
        val hash = publish("""{"keyguardDisabled":true}""")
        server.policyFetchStatus = 503
        val a = enrolled()
        assertEquals(PolicyOutcome.FETCH_FAILED, beat(a).policy)
        server.policyFetchStatus = 200
        server.policyReportStatus = 503
        clock.ms += 60_000
        assertEquals(PolicyOutcome.REPORT_FAILED, beat(a).policy)
        assertNull(server.heartbeats.last().get("policy"))
        server.policyReportStatus = 200
        clock.ms += 120_000
        assertEquals(PolicyOutcome.APPLIED, beat(a).policy)
        assertEquals(hash, server.policyReports.single().string("hash"))
        assertEquals(3, server.heartbeats.size)
    }

    @Test
    fun `a restart keeps the applied hash, a new enrollment forgets it`() {
        val hash = publish("""{"keyguardDisabled":true}""")
        beat(enrolled())
        assertEquals(1, fetches())
        assertTrue(stateFile.isFile)

        val restarted = agent()
        assertEquals(PolicyOutcome.UP_TO_DATE, beat(restarted).policy)
        assertEquals(hash, lastHeartbeatPolicyHash())
        assertEquals(1, fetches())
        assertEquals(1, port.applied.size)

        val reenrolled = enrolled(agent())
        assertFalse(stateFile.isFile)
        assertEquals(PolicyOutcome.APPLIED, beat(reenrolled).policy)
        assertEquals(2, server.policyReports.size)
    }

    @Test
    fun `no policy, or a v1 server, means nothing to do`() {
        val a = enrolled()
        assertEquals(PolicyOutcome.NONE, beat(a).policy)
        assertEquals(0, fetches())
        assertNull(server.heartbeats.last().get("policy"))
    }
}

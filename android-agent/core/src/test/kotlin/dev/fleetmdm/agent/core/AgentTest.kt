package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.EnrollOutcome
import dev.fleetmdm.agent.core.agent.MemoryCredentialStore
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.agent.PostOutcome
import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.command.ExecutionResult
import dev.fleetmdm.agent.core.command.executor
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.MemoryHeartbeatBuffer
import dev.fleetmdm.agent.core.protocol.CommandResult
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.protocol.wholeNumber
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.Executor

class AgentTest {
    private val server = FakeServer()
    private val clock = ManualClock()
    private val credentials = MemoryCredentialStore()
    private val settings = MemorySettingsStore("com.example.kiosk")
    private val buffer = MemoryHeartbeatBuffer(10)
    private val executed = ArrayList<String>()
    private val agent = Agent(
        AgentParts(
            agentVersion = "1.0.0",
            deviceInfo = { DeviceInfo("Pixel 7", "Google", "14", 34, "R5CT1234", "1.0.0") },
            credentials = credentials,
            settings = settings,
            http = server,
            telemetry = FixedTelemetry(),
            buffer = buffer,
            events = EventQueue(nowMs = clock.now),
            replayStore = BoundedReplayStore(),
            executors = { control ->
                mapOf(
                    "PING" to executor {
                        executed.add("PING ${it.cid}")
                        control.heartbeatNow()
                        ExecutionResult.succeeded("pong")
                    }
                )
            },
            commandRunner = Executor { it.run() },
            reporter = null,
            nowMs = clock.now,
            log = testLogger(),
            bootId = "boot-a"
        )
    )

    private fun enrolled(): Agent {
        assertTrue(agent.enroll("https://mdm.test/", "mdmet_good") is EnrollOutcome.Enrolled)
        return agent
    }

    @Test
    fun `enrollment stores the credentials and the server's interval`() {
        enrolled()
        assertEquals(DEVICE_ID, credentials.load()!!.deviceId)
        assertEquals("https://mdm.test", credentials.load()!!.serverUrl)
        assertEquals(120_000L, agent.intervalMs())
        val refused = agent.enroll("https://mdm.test", "mdmet_used")
        assertEquals("enrollment_token_used", (refused as EnrollOutcome.Refused).code)
        assertEquals("invalid_server_url", (agent.enroll("ftp://x", "mdmet_good") as EnrollOutcome.Refused).code)
    }

    @Test
    fun `an enrollment that got no answer can be retried`() {
        server.offline = true
        assertTrue(agent.enroll("https://mdm.test", "mdmet_good") is EnrollOutcome.RetryLater)
        assertFalse(agent.isEnrolled())
    }

    @Test
    fun `a heartbeat runs the commands of its answer and reports them`() {
        enrolled()
        server.pending.add(signedEnvelope("cmd-1"))
        val report = agent.heartbeat()
        assertTrue(report.sent)
        assertEquals(1, report.commands)
        assertEquals(listOf("PING cmd-1"), executed)
        assertEquals(listOf("cmd-1 delivered", "cmd-1 succeeded pong"), server.results)
        assertEquals(1, server.sessionsOpened)
        // Reported, so the next answer no longer has it; and it would not run twice anyway.
        agent.heartbeat()
        assertEquals(listOf("PING cmd-1"), executed)
    }

    @Test
    fun `heartbeats carry boot id and seq, and the server's interval is kept`() {
        enrolled()
        server.nextHeartbeatSec = 60
        agent.heartbeat()
        agent.heartbeat()
        assertEquals(listOf(0L, 1L), server.heartbeats.map { it.wholeNumber("seq") })
        assertEquals(listOf("boot-a", "boot-a"), server.heartbeats.map { it.string("bootId") })
        assertEquals(60_000L, agent.intervalMs())
        agent.setHeartbeatIntervalSec(30)
        assertEquals(30_000L, agent.intervalMs())
    }

    @Test
    fun `offline heartbeats are buffered and uploaded in order once the server answers`() {
        enrolled()
        agent.heartbeat()
        server.offline = true
        for (i in 1..3) assertFalse(agent.heartbeat().sent)
        assertEquals(3, agent.bufferedHeartbeats())
        server.offline = false
        server.heartbeatStatus = 503
        assertFalse(agent.heartbeat().sent)
        assertEquals(4, agent.bufferedHeartbeats())
        server.heartbeatStatus = 200
        val report = agent.heartbeat()
        assertEquals(4, report.flushed)
        assertEquals(0, agent.bufferedHeartbeats())
        // The live heartbeat first, then the buffered ones oldest first, each exactly as built.
        assertEquals(listOf(0L, 5L, 1L, 2L, 3L, 4L), server.heartbeats.map { it.wholeNumber("seq") })
    }

    @Test
    fun `flush uploads the buffer without building a new heartbeat`() {
        enrolled()
        server.offline = true
        agent.heartbeat()
        server.offline = false
        assertTrue(agent.flush())
        assertEquals(listOf(0L), server.heartbeats.map { it.wholeNumber("seq") })
    }

    @Test
    fun `a 401 opens a new session and retries once`() {
        enrolled()
        agent.heartbeat()
        server.expireSession()
        assertTrue(agent.heartbeat().sent)
        assertEquals(2, server.sessionsOpened)
        assertEquals(2, server.heartbeats.size)
        assertEquals(0, agent.bufferedHeartbeats())
    }

    @Test
    fun `a refused device keeps its identity, backs off, reports it, and only retire forgets it`() {
        enrolled()
        agent.heartbeat()
        server.deviceKnown = false
        assertFalse(agent.heartbeat().sent)
        assertTrue(agent.isEnrolled())
        assertEquals(1, agent.authRefusals())
        val opened = server.requests.count { it == "POST /api/v1/device/session" }
        // Within the backoff (a minute at first) the server is not asked again.
        clock.ms += 30_000
        assertFalse(agent.heartbeat().sent)
        assertEquals(opened, server.requests.count { it == "POST /api/v1/device/session" })
        clock.ms += 60_000
        assertFalse(agent.heartbeat().sent)
        assertEquals(opened + 1, server.requests.count { it == "POST /api/v1/device/session" })
        assertEquals(2, agent.authRefusals())
        // The server knows the device again (a restore finished): the buffered heartbeats go up, with the events.
        server.deviceKnown = true
        clock.ms += 3_600_000
        val report = agent.heartbeat()
        assertTrue(report.sent, report.failure)
        assertEquals(0, agent.authRefusals())
        assertEquals(0, agent.bufferedHeartbeats())
        assertTrue(agent.heartbeat().sent)
        val types = server.heartbeats.flatMap { hb -> hb.getAsJsonArray("events")?.map { it.asJsonObject.string("type") } ?: emptyList() }
        assertTrue(types.contains("agent.auth_refused"), types.toString())
        assertTrue(types.contains("agent.auth_restored"), types.toString())
        // Only the retire hook (a server-signed retire command, later) forgets the identity.
        agent.retire("test")
        assertFalse(agent.isEnrolled())
        assertNull(credentials.load())
        assertEquals("not enrolled", agent.heartbeat().failure)
    }

    @Test
    fun `an http server is refused unless this enrollment or the build allows cleartext`() {
        assertEquals("cleartext_not_allowed", (agent.enroll("http://mdm.test", "mdmet_good") as EnrollOutcome.Refused).code)
        assertFalse(agent.isEnrolled())
        assertTrue(agent.enroll("http://mdm.test", "mdmet_good", allowCleartext = true) is EnrollOutcome.Enrolled)
    }

    @Test
    fun `a result that could not be posted is posted after the next heartbeat`() {
        enrolled()
        agent.heartbeat()
        server.offline = true
        assertEquals(PostOutcome.RETRY, agent.postResult("cmd-9", CommandResult.succeeded("ok")))
        server.offline = false
        server.pending.add(signedEnvelope("cmd-2"))
        server.heartbeatStatus = 200
        // cmd-2's final report fails twice: when it is made, and when retried after that heartbeat.
        val flaky = object : dev.fleetmdm.agent.core.net.HttpClient {
            var failResults = 2
            override fun execute(request: dev.fleetmdm.agent.core.net.HttpRequest): dev.fleetmdm.agent.core.net.HttpResponse {
                if (request.url.endsWith("/result") && request.body!!.contains("succeeded") && failResults-- > 0) throw java.io.IOException("reset")
                return server.execute(request)
            }
        }
        val agent2 = Agent(
            AgentParts(
                "1.0.0", { DeviceInfo("m", "x", "14", 34, null, "1.0.0") }, credentials, settings, flaky, FixedTelemetry(),
                MemoryHeartbeatBuffer(), EventQueue(nowMs = clock.now), BoundedReplayStore(),
                { mapOf("PING" to executor { ExecutionResult.succeeded("pong") }) }, Executor { it.run() }, null, clock.now, testLogger()
            )
        )
        agent2.heartbeat()
        assertEquals(1, agent2.pendingResultCount())
        assertEquals(listOf("cmd-2 delivered"), server.results)
        agent2.heartbeat()
        assertEquals(0, agent2.pendingResultCount())
        assertEquals(listOf("cmd-2 delivered", "cmd-2 succeeded pong"), server.results)
    }

    @Test
    fun `a changed FCM token is sent until the server has it`() {
        enrolled()
        agent.fcmToken = "fcm-1"
        server.offline = true
        agent.heartbeat()
        server.offline = false
        agent.heartbeat()
        agent.heartbeat()
        val live = server.heartbeats.filter { it.wholeNumber("seq") != 0L }
        assertEquals(listOf("fcm-1", null), live.map { it.string("fcmToken") })
        assertEquals("fcm-1", server.heartbeats.first { it.wholeNumber("seq") == 0L }.string("fcmToken"))
    }

    @Test
    fun `push messages go through the same verifier and replay store`() {
        enrolled()
        val push = signedEnvelope("cmd-push").toMap()
        assertTrue(agent.onPush(push) is dev.fleetmdm.agent.core.command.Verdict.Accepted)
        server.pending.add(signedEnvelope("cmd-push"))
        agent.heartbeat()
        assertEquals(listOf("PING cmd-push"), executed)
    }
}

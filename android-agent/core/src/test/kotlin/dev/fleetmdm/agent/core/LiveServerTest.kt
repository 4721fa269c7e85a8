package dev.fleetmdm.agent.core

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.EnrollOutcome
import dev.fleetmdm.agent.core.agent.MemoryCredentialStore
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.command.ApkInstaller
import dev.fleetmdm.agent.core.command.DevicePower
import dev.fleetmdm.agent.core.command.FileReplayStore
import dev.fleetmdm.agent.core.command.KioskApps
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.FileHeartbeatBuffer
import dev.fleetmdm.agent.core.log.Level
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.log.StderrSink
import dev.fleetmdm.agent.core.net.ApiResult
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.net.DeviceApi
import dev.fleetmdm.agent.core.net.HttpClient
import dev.fleetmdm.agent.core.net.HttpRequest
import dev.fleetmdm.agent.core.net.HttpResponse
import dev.fleetmdm.agent.core.net.UrlConnectionHttpClient
import dev.fleetmdm.agent.core.policy.PolicyOutcome
import dev.fleetmdm.agent.core.policy.PolicyPort
import dev.fleetmdm.agent.core.policy.PolicyStateStore
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.string
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.io.IOException
import java.util.Collections
import java.util.concurrent.Executor

/**
 * The JVM core against the real standalone server (started by android-agent/core/test.sh, which
 * passes MDM_TEST_URL, MDM_TEST_ADMIN_EMAIL and MDM_TEST_ADMIN_PASSWORD): enroll, heartbeat, get a
 * signed command in the heartbeat answer, verify and execute it, post the result, and see it
 * `succeeded` through the admin API; and converge to an admin's policy until the server says compliant. Without a server it is skipped, unless MDM_TEST_REQUIRE_SERVER=1.
 */
class LiveServerTest {
    @TempDir
    lateinit var dir: File

    private val url: String? = setting("MDM_TEST_URL")
    private val http = UrlConnectionHttpClient(5_000, 20_000)

    /** The device's connection: it can be cut, and it records what was sent. */
    private val device = object : HttpClient {
        @Volatile var offline = false
        @Volatile var spoilNextBearer = false
        val sent: MutableList<String> = Collections.synchronizedList(ArrayList<String>())

        override fun execute(request: HttpRequest): HttpResponse {
            if (offline) throw IOException("network unreachable (test)")
            sent.add("${request.method} ${request.url.substringAfter("/api/v1")} ${request.body ?: ""}")
            var headers = request.headers
            if (spoilNextBearer && headers.containsKey("Authorization")) {
                spoilNextBearer = false
                headers = headers + ("Authorization" to "Bearer not-a-valid-token")
            }
            return http.execute(HttpRequest(request.method, request.url, headers, request.body))
        }
    }

    private val executed: MutableList<String> = Collections.synchronizedList(ArrayList<String>())

    @Test
    fun `enroll, heartbeat, receive a signed command, execute it and report it`() {
        if (setting("MDM_TEST_REQUIRE_SERVER") == "1") assertTrue(url != null, "MDM_TEST_URL must be set")
        assumeTrue(url != null, "no server: set MDM_TEST_URL (android-agent/core/test.sh does)")
        val base = url!!.trimEnd('/')
        val admin = adminLogin(base)
        val enrollmentToken = admin(base, admin, "POST", "/api/v1/admin/enrollment-tokens", "{\"label\":\"kotlin core test\"}", 201).string("token")!!

        val settings = MemorySettingsStore("com.example.kiosk")
        val credentials = MemoryCredentialStore()
        val agent = Agent(
            AgentParts(
                agentVersion = "1.0.0-test",
                deviceInfo = { DeviceInfo("JVM", "OpenJDK", "14", 34, "JVM-" + System.nanoTime(), "1.0.0-test") },
                credentials = credentials,
                settings = settings,
                http = device,
                telemetry = FixedTelemetry(),
                buffer = FileHeartbeatBuffer(File(dir, "buffer")),
                events = EventQueue(nowMs = { System.currentTimeMillis() }),
                replayStore = FileReplayStore(File(dir, "replay.json")),
                executors = { control -> recording(StandardExecutors(fakePower, fakeApps, noInstaller, http, control, File(dir, "dl")).all()) },
                commandRunner = Executor { it.run() },
                reporter = null,
                nowMs = { System.currentTimeMillis() },
                log = Logger(StderrSink(), minLevel = Level.WARN)
            )
        )

        // The test server speaks http: this enrollment allows cleartext explicitly, as allow_cleartext=true does.
        assertTrue(agent.enroll(base, enrollmentToken, allowCleartext = true) is EnrollOutcome.Enrolled)
        val deviceId = agent.deviceId()!!
        val first = agent.heartbeat()
        assertTrue(first.sent, first.failure)
        assertEquals(0, first.commands)
        // The heartbeat carried bootId and seq, and the server took it.
        assertTrue(device.sent.any { it.startsWith("POST /heartbeat") && it.contains("\"bootId\"") && it.contains("\"seq\":0") })

        // PING: sent by the admin, delivered in the next heartbeat answer, run, reported.
        val ping = createCommand(base, admin, "{\"type\":\"PING\",\"deviceIds\":[\"$deviceId\"]}")
        val second = agent.heartbeat()
        assertTrue(second.sent, second.failure)
        assertEquals(1, second.commands)
        assertEquals(listOf("PING $ping"), executed)
        val pinged = admin(base, admin, "GET", "/api/v1/admin/commands/$ping", null, 200)
        assertEquals("succeeded", pinged.string("status"))
        assertEquals("pong", pinged.string("output"))

        // Reported, so the next answer does not carry it again.
        assertEquals(0, agent.heartbeat().commands)

        // SET_CONFIG through the real executor changes the agent's interval.
        val config = createCommand(base, admin, "{\"type\":\"SET_CONFIG\",\"params\":{\"heartbeatIntervalSec\":120},\"deviceIds\":[\"$deviceId\"]}")
        assertEquals(1, agent.heartbeat().commands)
        assertEquals("succeeded", admin(base, admin, "GET", "/api/v1/admin/commands/$config", null, 200).string("status"))
        assertEquals(120_000L, agent.intervalMs())

        // A refused token gets a new session and the heartbeat goes through.
        device.spoilNextBearer = true
        assertTrue(agent.heartbeat().sent)
        assertEquals(2, device.sent.count { it.startsWith("POST /device/session") })

        // Offline: heartbeats are buffered, then uploaded once the server is reachable again.
        device.offline = true
        assertTrue(!agent.heartbeat().sent && !agent.heartbeat().sent)
        assertEquals(2, agent.bufferedHeartbeats())
        device.offline = false
        val back = agent.heartbeat()
        assertTrue(back.sent, back.failure)
        assertEquals(2, back.flushed)
        assertEquals(0, agent.bufferedHeartbeats())
        // 5 heartbeats sent live before the outage, 2 buffered, 1 after: 8 stored.
        assertEquals(8, telemetryPoints(base, admin, deviceId))

        // The same heartbeat sent again (a retry after a lost answer) carries the same bootId and
        // seq: a server that knows them (its OpenAPI document names bootId) stores it once.
        val last = device.sent.last { it.startsWith("POST /heartbeat ") }.removePrefix("POST /heartbeat ")
        val api = DeviceApi(base, http)
        val creds = credentials.load()!!
        val session = api.openSession(creds.deviceId, creds.deviceSecret) as ApiResult.Ok
        assertTrue(api.heartbeat(session.value.accessToken, last) is ApiResult.Ok)
        val dedupes = http.execute(HttpRequest("GET", "$base/api/v1/openapi.json", emptyMap(), null)).body.contains("\"bootId\"")
        assertEquals(if (dedupes) 8 else 9, telemetryPoints(base, admin, deviceId))
    }

    @Test
    fun `an admin's policy for the device converges - fetched, verified, applied, reported, compliant`() {
        if (setting("MDM_TEST_REQUIRE_SERVER") == "1") assertTrue(url != null, "MDM_TEST_URL must be set")
        assumeTrue(url != null, "no server: set MDM_TEST_URL (android-agent/core/test.sh does)")
        val base = url!!.trimEnd('/')
        val admin = adminLogin(base)
        val enrollmentToken = admin(base, admin, "POST", "/api/v1/admin/enrollment-tokens", "{\"label\":\"kotlin core policy test\"}", 201).string("token")!!
        val applied: MutableList<String> = Collections.synchronizedList(ArrayList<String>())
        val failing = HashMap<String, String>()
        val port = object : PolicyPort {
            override val sdkInt = 34
            override fun apply(item: String, value: JsonElement) {
                failing[item]?.let { throw IllegalStateException(it) }
                applied.add("$item=$value")
            }
        }
        val credentials = MemoryCredentialStore()
        fun agent() = Agent(
            AgentParts(
                agentVersion = "1.0.0-test",
                deviceInfo = { DeviceInfo("JVM", "OpenJDK", "14", 34, "JVM-" + System.nanoTime(), "1.0.0-test") },
                credentials = credentials,
                settings = MemorySettingsStore("com.example.kiosk"),
                http = device,
                telemetry = FixedTelemetry(),
                buffer = FileHeartbeatBuffer(File(dir, "buffer")),
                events = EventQueue(nowMs = { System.currentTimeMillis() }),
                replayStore = FileReplayStore(File(dir, "replay.json")),
                executors = { emptyMap() },
                commandRunner = Executor { it.run() },
                reporter = null,
                nowMs = { System.currentTimeMillis() },
                log = Logger(StderrSink(), minLevel = Level.WARN),
                policyPort = port,
                policyState = PolicyStateStore(File(dir, "policy.json")),
                // a failed item is applied again at the next heartbeat
                policyBackoff = Backoff(1, 1, jitter = 0.0)
            )
        )
        val first = agent()
        assertTrue(first.enroll(base, enrollmentToken, allowCleartext = true) is EnrollOutcome.Enrolled)
        val deviceId = first.deviceId()!!

        // A device override (not the fleet default: MDM_TEST_URL may be a server someone uses).
        admin(base, admin, "PUT", "/api/v1/admin/devices/$deviceId/policy", "{\"keyguardDisabled\":true,\"timeZone\":\"Europe/Berlin\"}", 200)
        val converged = first.heartbeat()
        assertTrue(converged.sent, converged.failure)
        assertEquals(PolicyOutcome.APPLIED, converged.policy)
        assertTrue(applied.contains("keyguardDisabled=true") && applied.contains("timeZone=\"Europe/Berlin\""), applied.toString())
        val compliance = admin(base, admin, "GET", "/api/v1/admin/devices/$deviceId/compliance", null, 200)
        assertEquals("compliant", compliance.string("state"))
        val hash = compliance.getAsJsonObject("effective").string("hash")!!
        assertEquals(hash, compliance.getAsJsonObject("reported").string("hash"))

        // The next heartbeat says what was applied (the server takes it) and fetches nothing.
        val fetches = device.sent.count { it.startsWith("GET /device/policy") }
        assertEquals(PolicyOutcome.UP_TO_DATE, first.heartbeat().policy)
        assertTrue(device.sent.last { it.startsWith("POST /heartbeat") }.contains("\"policy\":{\"hash\":\"$hash\"}"))
        // A restarted agent remembers it.
        val restarted = agent()
        assertEquals(PolicyOutcome.UP_TO_DATE, restarted.heartbeat().policy)
        assertEquals(fetches, device.sent.count { it.startsWith("GET /device/policy") })

        // A change the device cannot apply: reported failed with the reason, then compliant once it can.
        admin(base, admin, "PUT", "/api/v1/admin/devices/$deviceId/policy", "{\"keyguardDisabled\":false,\"timeZone\":\"Europe/Berlin\"}", 200)
        failing["keyguardDisabled"] = "refused (a secure lock screen is set?)"
        assertEquals(PolicyOutcome.PARTIAL, restarted.heartbeat().policy)
        val failed = admin(base, admin, "GET", "/api/v1/admin/devices/$deviceId/compliance", null, 200)
        assertEquals("failed", failed.string("state"))
        val nonCompliant = failed.getAsJsonArray("nonCompliant").map { it.asJsonObject }
        assertEquals(listOf("keyguardDisabled"), nonCompliant.map { it.string("item") })
        assertEquals("refused (a secure lock screen is set?)", nonCompliant[0].string("reason"))
        failing.clear()
        assertEquals(PolicyOutcome.APPLIED, restarted.heartbeat().policy)
        assertEquals("compliant", admin(base, admin, "GET", "/api/v1/admin/devices/$deviceId/compliance", null, 200).string("state"))
    }

    private fun telemetryPoints(base: String, token: String, deviceId: String): Int =
        admin(base, token, "GET", "/api/v1/admin/devices/$deviceId/telemetry", null, 200).getAsJsonArray("points").size()

    private fun recording(executors: Map<String, dev.fleetmdm.agent.core.command.CommandExecutor>) = executors.mapValues { (type, inner) ->
        dev.fleetmdm.agent.core.command.executor { command ->
            executed.add("$type ${command.cid}")
            inner.execute(command)
        }
    }

    private val fakePower = object : DevicePower {
        override fun reboot() = throw AssertionError("no REBOOT in this test")
        override fun lockScreen() {}
        override fun wipe() = throw AssertionError("no WIPE in this test")
        override fun releaseOwner() = throw AssertionError("no RELEASE_OWNER in this test")
    }
    private val fakeApps = object : KioskApps {
        override fun relaunch(packageName: String): String? = null
        override fun clearData(packageName: String): String? = null
    }
    private val noInstaller = object : ApkInstaller {
        override fun inspect(apk: File): dev.fleetmdm.agent.core.install.ApkFacts? = null
        override fun installed(packageName: String): dev.fleetmdm.agent.core.install.InstalledPackage? = null
        override fun install(apk: File, packageName: String): String? = "no installs in this test"
    }

    private fun adminLogin(base: String): String {
        val email = setting("MDM_TEST_ADMIN_EMAIL") ?: "admin@localhost"
        val password = setting("MDM_TEST_ADMIN_PASSWORD") ?: ""
        val body = Json.write(mapOf("email" to email, "password" to password))
        return admin(base, null, "POST", "/api/v1/admin/login", body, 200).string("token")!!
    }

    private fun createCommand(base: String, token: String, body: String): String {
        val created = admin(base, token, "POST", "/api/v1/admin/commands", body, 201)
        val commands = created.getAsJsonArray("commands")
        assertEquals(1, commands.size())
        return commands[0].asJsonObject.string("id")!!
    }

    private fun admin(base: String, token: String?, method: String, path: String, body: String?, expect: Int): JsonObject {
        val headers = if (token == null) emptyMap() else mapOf("Authorization" to "Bearer $token")
        val response = http.execute(HttpRequest(method, base + path, headers, body))
        assertEquals(expect, response.status, "$method $path answered ${response.body}")
        return Json.parseObject(response.body)!!
    }

    private fun setting(name: String): String? = (System.getProperty(name) ?: System.getenv(name))?.ifEmpty { null }
}

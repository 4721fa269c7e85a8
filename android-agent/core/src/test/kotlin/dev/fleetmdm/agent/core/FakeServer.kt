package dev.fleetmdm.agent.core

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.net.HttpClient
import dev.fleetmdm.agent.core.net.HttpRequest
import dev.fleetmdm.agent.core.net.HttpResponse
import dev.fleetmdm.agent.core.protocol.Envelope
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.string
import java.io.IOException

/**
 * The device routes of protocol v1 in memory, for the agent's small tests: enough of the server's
 * behaviour (sessions, 401s, pending commands, results) to drive every branch of the agent.
 */
class FakeServer : HttpClient {
    var offline = false
    var heartbeatStatus = 200
    var nextHeartbeatSec = 300
    var deviceKnown = true
    val heartbeats = ArrayList<JsonObject>()
    val results = ArrayList<String>()
    val pending = ArrayList<Envelope>()
    val requests = ArrayList<String>()
    var sessionsOpened = 0
    /** v2: the effective policy the answers name (null: none) and the envelope GET /device/policy serves. */
    var policyHash: String? = null
    var policyVersion = 1
    var policyEnvelope: Envelope? = null
    var policyFetchStatus = 200
    var policyReportStatus = 200
    val policyReports = ArrayList<JsonObject>()
    private var validToken: String? = null

    fun expireSession() {
        validToken = null
    }

    override fun execute(request: HttpRequest): HttpResponse {
        val path = request.url.replaceFirst(Regex("^https?://mdm\\.test"), "")
        requests.add("${request.method} $path")
        if (offline) throw IOException("connect timed out")
        val body = request.body?.let { Json.parseObject(it) }
        return when {
            path == "/api/v1/enroll" -> enroll(body!!)
            path == "/api/v1/device/session" -> session(body!!)
            path == "/api/v1/heartbeat" -> authorized(request) { heartbeat(body!!) }
            path.startsWith("/api/v1/commands/") -> authorized(request) { result(path, body!!) }
            path == "/api/v1/device/policy" && request.method == "GET" -> authorized(request) { policy() }
            path == "/api/v1/device/policy/report" -> authorized(request) { policyReport(body!!) }
            else -> json(404, error("not_found"))
        }
    }

    private fun enroll(body: JsonObject): HttpResponse {
        if (body.string("enrollmentToken") != "mdmet_good") return json(409, error("enrollment_token_used"))
        return json(201, "{\"deviceId\":\"$DEVICE_ID\",\"deviceSecret\":\"secret\",\"hmacKey\":\"$HMAC_KEY\",\"heartbeatIntervalSec\":120}")
    }

    private fun session(body: JsonObject): HttpResponse {
        if (!deviceKnown || body.string("deviceSecret") != "secret") return json(401, error("invalid_credentials"))
        sessionsOpened++
        validToken = "token-$sessionsOpened"
        return json(200, "{\"accessToken\":\"$validToken\",\"expiresAt\":\"2026-03-10T18:00:00Z\"}")
    }

    private fun authorized(request: HttpRequest, handler: () -> HttpResponse): HttpResponse {
        val bearer = request.headers["Authorization"]
        if (!deviceKnown) return json(401, error("unknown_device"))
        if (validToken == null || bearer != "Bearer $validToken") return json(401, error("invalid_token"))
        return handler()
    }

    private fun heartbeat(body: JsonObject): HttpResponse {
        if (heartbeatStatus != 200) return json(heartbeatStatus, error("service_unavailable"))
        heartbeats.add(body)
        val commands = pending.joinToString(",") { Json.write(it.toMap()) }
        val policy = policyHash?.let { "{\"version\":$policyVersion,\"hash\":\"$it\"}" } ?: "null"
        return json(
            200,
            "{\"protocolVersion\":2,\"serverTime\":\"2026-03-10T12:00:00Z\",\"nextHeartbeatSec\":$nextHeartbeatSec,\"commands\":[$commands],\"policy\":$policy}"
        )
    }

    private fun policy(): HttpResponse {
        if (policyFetchStatus != 200) return json(policyFetchStatus, error("service_unavailable"))
        val envelope = policyEnvelope
        if (envelope == null) return json(200, "{\"protocolVersion\":2,\"version\":0,\"hash\":null,\"envelope\":null}")
        return json(200, "{\"protocolVersion\":2,\"version\":$policyVersion,\"hash\":\"${envelope.cid}\",\"envelope\":${Json.write(envelope.toMap())}}")
    }

    private fun policyReport(body: JsonObject): HttpResponse {
        if (policyReportStatus != 200) return json(policyReportStatus, error("service_unavailable"))
        policyReports.add(body)
        val failed = body.getAsJsonArray("items").any { it.asJsonObject.string("status") == "failed" }
        val state = if (body.string("hash") != policyHash) "pending" else if (failed) "failed" else "compliant"
        return json(200, "{\"state\":\"$state\",\"hash\":\"${body.string("hash")}\",\"version\":$policyVersion}")
    }

    private fun result(path: String, body: JsonObject): HttpResponse {
        val cid = path.removePrefix("/api/v1/commands/").removeSuffix("/result")
        val status = body.string("status")!!
        results.add("$cid $status" + (body.string("output")?.let { " $it" } ?: "") + (body.string("error")?.let { " $it" } ?: ""))
        if (status != "delivered") pending.removeAll { it.cid == cid }
        return json(200, "{\"id\":\"$cid\",\"status\":\"$status\"}")
    }

    private fun error(code: String) = "{\"error\":{\"code\":\"$code\",\"message\":\"$code\"}}"

    private fun json(status: Int, body: String) = HttpResponse(status, body, mapOf("Content-Type" to "application/json"))
}

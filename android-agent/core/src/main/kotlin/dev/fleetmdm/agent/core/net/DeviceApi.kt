package dev.fleetmdm.agent.core.net

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.protocol.CommandResult
import dev.fleetmdm.agent.core.protocol.EnrollRequest
import dev.fleetmdm.agent.core.protocol.Enrollment
import dev.fleetmdm.agent.core.protocol.Envelope
import dev.fleetmdm.agent.core.protocol.PolicyDocument
import dev.fleetmdm.agent.core.protocol.PolicyRef
import dev.fleetmdm.agent.core.protocol.HeartbeatAnswer
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.Session
import dev.fleetmdm.agent.core.protocol.SessionRequest
import dev.fleetmdm.agent.core.protocol.obj
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.protocol.wholeNumber
import java.io.IOException
import java.net.URLEncoder
import java.time.OffsetDateTime
import java.time.format.DateTimeParseException

/** The outcome of one API call. */
sealed class ApiResult<out T> {
    class Ok<out T>(val value: T) : ApiResult<T>()

    /**
     * [status] 0: no response (network error or timeout). [code] is the API's `error.code`.
     */
    class Failed(val status: Int, val code: String?, val message: String, val retryAfterSec: Long?) : ApiResult<Nothing>() {
        /** Worth trying again later: no answer, the server briefly unavailable or rate limiting. */
        val transient: Boolean get() = status == 0 || status == 408 || status == 429 || status >= 500

        override fun toString(): String = if (status == 0) "network: $message" else "HTTP $status ${code ?: ""}: $message"
    }
}

/** The device routes of protocol v1 and v2's policy routes (docs/protocol.md) over an [HttpClient]. */
class DeviceApi(baseUrl: String, private val http: HttpClient) {
    private val base = baseUrl.trimEnd('/')

    fun enroll(request: EnrollRequest): ApiResult<Enrollment> = call("POST", "/api/v1/enroll", Json.write(request), null, 201) { body ->
        val deviceId = body.string("deviceId")
        val deviceSecret = body.string("deviceSecret")
        val hmacKey = body.string("hmacKey")
        val interval = body.wholeNumber("heartbeatIntervalSec")
        if (deviceId.isNullOrEmpty() || deviceSecret.isNullOrEmpty() || hmacKey.isNullOrEmpty()) null
        else Enrollment(deviceId, deviceSecret, hmacKey, if (interval != null && interval > 0 && interval < Int.MAX_VALUE) interval.toInt() else 0)
    }

    fun openSession(deviceId: String, deviceSecret: String): ApiResult<Session> =
        call("POST", "/api/v1/device/session", Json.write(SessionRequest(deviceId, deviceSecret)), null, 200) { body ->
            val token = body.string("accessToken")
            val expiresAt = body.string("expiresAt")?.let { parseTime(it) }
            if (token.isNullOrEmpty() || expiresAt == null) null else Session(token, expiresAt)
        }

    /** [bodyJson] is sent verbatim, so a buffered heartbeat goes out byte for byte as it was built. */
    fun heartbeat(accessToken: String, bodyJson: String): ApiResult<HeartbeatAnswer> =
        call("POST", "/api/v1/heartbeat", bodyJson, accessToken, 200) { body ->
            val next = body.wholeNumber("nextHeartbeatSec")
            val commands = ArrayList<JsonElement>()
            val array = body.get("commands")
            if (array != null && array.isJsonArray) for (element in array.asJsonArray) commands.add(element)
            val cancelled = ArrayList<String>()
            val ids = body.get("cancelled")
            if (ids != null && ids.isJsonArray) {
                for (element in ids.asJsonArray) {
                    if (element.isJsonPrimitive && element.asJsonPrimitive.isString) {
                        val cid = element.asString
                        if (cid.isNotEmpty() && cid.length <= 128) cancelled.add(cid)
                    }
                }
            }
            HeartbeatAnswer(if (next != null && next > 0 && next <= Int.MAX_VALUE) next.toInt() else null, commands, cancelled, policyRef(body))
        }

    /** v2: the device's effective policy as a signed envelope (docs/protocol.md "Policies"). */
    fun fetchPolicy(accessToken: String): ApiResult<PolicyDocument> =
        call("GET", "/api/v1/device/policy", null, accessToken, 200) { body ->
            val version = body.wholeNumber("version")
            val raw = body.get("envelope")
            when {
                version == null -> null
                raw == null || raw.isJsonNull -> PolicyDocument(version, null, null)
                // an envelope that is not one is the verifier's `malformed`: kept as a null envelope with a hash
                else -> PolicyDocument(version, body.string("hash") ?: "", Envelope.fromJson(raw))
            }
        }

    /** v2: `POST /api/v1/device/policy/report`; answers the device's compliance state. [bodyJson] from PolicyApplier.report. */
    fun reportPolicy(accessToken: String, bodyJson: String): ApiResult<String> =
        call("POST", "/api/v1/device/policy/report", bodyJson, accessToken, 200) { body -> body.string("state") ?: "unknown" }

    /** Answers the command's status on the server after the report. */
    fun postResult(accessToken: String, cid: String, result: CommandResult): ApiResult<String> {
        val path = "/api/v1/commands/" + URLEncoder.encode(cid, "UTF-8") + "/result"
        return call("POST", path, Json.write(result), accessToken, 200) { body -> body.string("status") ?: result.status }
    }

    private fun <T> call(method: String, path: String, body: String?, bearer: String?, expect: Int, parse: (JsonObject) -> T?): ApiResult<T> {
        val headers = HashMap<String, String>()
        if (bearer != null) headers["Authorization"] = "Bearer $bearer"
        val response = try {
            http.execute(HttpRequest(method, base + path, headers, body))
        } catch (e: IOException) {
            return ApiResult.Failed(0, null, "${e.javaClass.simpleName}: ${e.message ?: "no message"}", null)
        }
        val json = Json.parseObject(response.body)
        val success = if (expect == 201) response.status == 201 else response.status in 200..299
        if (!success) {
            val error = json?.obj("error")
            return ApiResult.Failed(
                response.status,
                error?.string("code"),
                error?.string("message") ?: "unexpected answer",
                response.header("Retry-After")?.trim()?.toLongOrNull()
            )
        }
        val value = if (json == null) null else parse(json)
        return if (value == null) ApiResult.Failed(response.status, "unexpected_body", "the answer did not have the expected shape", null)
        else ApiResult.Ok(value)
    }

    companion object {
        /** The answer's `policy`: null when absent, null, or not a version and a lowercase hex SHA-256. */
        fun policyRef(body: JsonObject): PolicyRef? {
            val element = body.get("policy")
            if (element == null || !element.isJsonObject) return null
            val policy = element.asJsonObject
            val version = policy.wholeNumber("version") ?: return null
            val hash = policy.string("hash") ?: return null
            return if (HASH.matches(hash)) PolicyRef(version, hash) else null
        }

        private val HASH = Regex("^[0-9a-f]{64}$")

        fun parseTime(value: String): Long? = try {
            OffsetDateTime.parse(value).toInstant().toEpochMilli()
        } catch (e: DateTimeParseException) {
            null
        }
    }
}

package dev.fleetmdm.agent.core.protocol

import com.google.gson.JsonElement
import com.google.gson.annotations.SerializedName

/*
 * Request bodies of device protocol v1, written by Gson. Optional members are nullable and left out
 * of the JSON when null. Response bodies are parsed by hand in DeviceApi.
 */

class DeviceInfo(
    val model: String,
    val manufacturer: String,
    val androidVersion: String,
    val sdkInt: Int,
    val serial: String?,
    val agentVersion: String
)

class EnrollRequest(val enrollmentToken: String, val device: DeviceInfo, val fcmToken: String?)

class SessionRequest(val deviceId: String, val deviceSecret: String)

/** The answer to `POST /api/v1/enroll`: the device's identity, to be kept in encrypted storage. */
class Enrollment(val deviceId: String, val deviceSecret: String, val hmacKey: String, val heartbeatIntervalSec: Int)

class Session(val accessToken: String, val expiresAtMs: Long)

class Battery(val level: Int, val charging: Boolean, val temperatureC: Double?)

class Memory(val availBytes: Long, val totalBytes: Long)

class Storage(val freeBytes: Long, val totalBytes: Long)

class Network(val type: String, val rssi: Int?, val ip: String?)

class AppStatus(
    @SerializedName("package") val packageName: String,
    val running: Boolean,
    val foreground: Boolean,
    val versionName: String?,
    val versionCode: Long?,
    val lastFrameAgeMs: Long?
)

/** `data` holds flat values only: strings, numbers, booleans or null. */
class DeviceEvent(val type: String, val at: String, val data: Map<String, Any?>?)

/**
 * `POST /api/v1/heartbeat`. `bootId` and `seq` identify one heartbeat across retries (a random id
 * per agent start and a counter within it), so a heartbeat re-sent after a timeout is stored once
 * by a server that knows them; older servers ignore unknown members.
 */
class HeartbeatBody(
    val sentAt: String,
    val battery: Battery,
    val memory: Memory,
    val storage: Storage?,
    val network: Network?,
    val app: AppStatus,
    val uptimeSec: Long,
    val agentVersion: String,
    val fcmToken: String?,
    val events: List<DeviceEvent>?,
    val bootId: String?,
    val seq: Long?,
    /** v2: the policy the device applied last; left out until it applied one (the server's `hash` may not be absent). */
    val policy: AppliedPolicy? = null,
    /** v2: the agent's own versionCode (what a staged rollout of the agent counts); left out when unknown. */
    val agentVersionCode: Long? = null
)

/** The heartbeat's `policy` (v2). */
class AppliedPolicy(val hash: String)

/** A heartbeat answer's `policy` (v2): the device's effective policy. */
class PolicyRef(val version: Long, val hash: String)

/** `GET /api/v1/device/policy`: [envelope] is null when no policy applies (then [hash] is null too). */
class PolicyDocument(val version: Long, val hash: String?, val envelope: Envelope?)

/**
 * What a heartbeat answer says; `commands` are unchecked: the verifier decides what they are worth.
 * `cancelled` names commands the server cancelled: never run them, report `cancelled`. `policy`
 * (v2) is the effective policy; null when none applies or the server speaks v1.
 */
class HeartbeatAnswer(
    val nextHeartbeatSec: Int?,
    val commands: List<JsonElement>,
    val cancelled: List<String> = emptyList(),
    val policy: PolicyRef? = null
)

object ResultStatus {
    const val DELIVERED = "delivered"
    const val SUCCEEDED = "succeeded"
    const val FAILED = "failed"
    const val REJECTED = "rejected"
    const val CANCELLED = "cancelled"
}

/** `POST /api/v1/commands/{cid}/result`. */
class CommandResult(val status: String, val output: String?, val error: String?) {
    val isFinal: Boolean get() = status != ResultStatus.DELIVERED

    override fun toString(): String = "CommandResult(status=$status, output=$output, error=$error)"

    companion object {
        /** The server's limits: output up to 4,000 characters, error up to 2,000. */
        const val MAX_OUTPUT = 4000
        const val MAX_ERROR = 2000

        fun delivered() = CommandResult(ResultStatus.DELIVERED, null, null)
        fun succeeded(output: String?) = CommandResult(ResultStatus.SUCCEEDED, output?.take(MAX_OUTPUT), null)
        fun failed(error: String) = CommandResult(ResultStatus.FAILED, null, error.take(MAX_ERROR))
        fun rejected(error: String) = CommandResult(ResultStatus.REJECTED, null, error.take(MAX_ERROR))
        fun cancelled() = CommandResult(ResultStatus.CANCELLED, null, null)
    }
}

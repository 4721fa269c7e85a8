package dev.fleetmdm.agent.core.agent

import dev.fleetmdm.agent.core.command.AgentControl
import dev.fleetmdm.agent.core.command.Channel
import dev.fleetmdm.agent.core.command.CommandDispatcher
import dev.fleetmdm.agent.core.command.CommandExecutor
import dev.fleetmdm.agent.core.command.EnvelopeVerifier
import dev.fleetmdm.agent.core.command.ReplayStore
import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.command.Verdict
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.HeartbeatBuffer
import dev.fleetmdm.agent.core.heartbeat.HeartbeatBuilder
import dev.fleetmdm.agent.core.heartbeat.Telemetry
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.policy.PolicyOutcome
import dev.fleetmdm.agent.core.policy.PolicyPort
import dev.fleetmdm.agent.core.policy.PolicyStateStore
import dev.fleetmdm.agent.core.policy.PolicySync
import dev.fleetmdm.agent.core.policy.PolicyVerifier
import dev.fleetmdm.agent.core.net.ApiResult
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.net.DeviceApi
import dev.fleetmdm.agent.core.net.HttpClient
import dev.fleetmdm.agent.core.net.ServerUrlPolicy
import dev.fleetmdm.agent.core.protocol.CommandResult
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import dev.fleetmdm.agent.core.protocol.EnrollRequest
import dev.fleetmdm.agent.core.protocol.Envelope
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.PolicyDocument
import dev.fleetmdm.agent.core.protocol.PolicyRef
import java.util.concurrent.Executor

sealed class EnrollOutcome {
    object Enrolled : EnrollOutcome()

    /** The server refused the token (used, revoked, expired, unknown): trying again will not help. */
    class Refused(val code: String, val message: String) : EnrollOutcome()

    class RetryLater(val reason: String, val retryAfterSec: Long?) : EnrollOutcome()
}

enum class PostOutcome { DONE, RETRY, DROP }

class BeatReport(
    val sent: Boolean,
    val commands: Int,
    val buffered: Int,
    val flushed: Int,
    val failure: String?,
    /** What policy convergence did after this heartbeat (null: not sent, or no [AgentParts.policyPort]). */
    val policy: PolicyOutcome? = null
)

/** The parts an [Agent] is made of; the Android app and the tests each wire their own. */
class AgentParts(
    val agentVersion: String,
    val deviceInfo: () -> DeviceInfo,
    val credentials: CredentialStore,
    val settings: SettingsStore,
    val http: HttpClient,
    val telemetry: Telemetry,
    val buffer: HeartbeatBuffer,
    val events: EventQueue,
    val replayStore: ReplayStore,
    /** Builds the executors; they get the agent's own controls (heartbeat now, settings). */
    val executors: (AgentControl) -> Map<String, CommandExecutor>,
    /** Where commands run: a single background thread on the device, the caller's thread in tests. */
    val commandRunner: Executor,
    /** Null: results are posted by the agent and kept in memory to retry after the next heartbeat. */
    val reporter: ResultReporter?,
    val nowMs: () -> Long,
    val log: Logger,
    val bootId: String = HeartbeatBuilder.newBootId(),
    /** Elapsed realtime (monotonic) for backoffs; the wall clock [nowMs] when not given. */
    val elapsedMs: (() -> Long)? = null,
    /** Whether this build lets `http://` server URLs through ([ServerUrlPolicy]). */
    val buildAllowsCleartext: Boolean = false,
    /** REBOOT and agent-update results that wait for the next boot or the new agent. */
    val pendingOutcomes: PendingOutcomes? = null,
    /** Where policy documents are applied (protocol v2); null: the agent does not converge to policies. */
    val policyPort: PolicyPort? = null,
    /** The hash of the policy applied last; give it a file so a restart does not apply the same document again. */
    val policyState: PolicyStateStore = PolicyStateStore(),
    /** Retries of a failed policy convergence (fetch, refused envelope, report, failed items), on [elapsedMs]. */
    val policyBackoff: Backoff = Backoff(60_000, 3_600_000),
    /** The agent's versionCode, reported in each heartbeat next to [agentVersion] (protocol v2). */
    val agentVersionCode: Long? = null
)

/**
 * The agent's protocol logic: enroll, open sessions (again after a 401), heartbeat, hand the
 * commands of each answer to the dispatcher, buffer heartbeats that cannot be sent and upload them
 * once the server answers again, and post command results.
 */
class Agent(private val parts: AgentParts) : AgentControl {
    val wakeup = Wakeup()
    val events: EventQueue get() = parts.events
    private val log = parts.log
    private val settings = parts.settings
    private val builder = HeartbeatBuilder(parts.agentVersion, parts.bootId, parts.nowMs, parts.agentVersionCode)
    private val sessions = Sessions(parts.credentials, parts.nowMs, log, parts.events, parts.elapsedMs ?: parts.nowMs)
    private val pendingResults = PendingResults()
    private val reporter: ResultReporter = parts.reporter ?: pendingResults.reporter(this)
    private val executors: Map<String, CommandExecutor> = parts.executors(this)
    private var dispatcher: CommandDispatcher? = null
    private var dispatcherFor: String? = null
    private val policySync: PolicySync? = parts.policyPort?.let {
        PolicySync(it, parts.policyState, parts.policyBackoff, parts.elapsedMs ?: parts.nowMs, parts.nowMs, log, parts.events)
    }

    /** The current FCM registration token; sent in the next heartbeat when the server has not got it. */
    @Volatile var fcmToken: String? = null

    fun isEnrolled(): Boolean = parts.credentials.load() != null

    fun deviceId(): String? = parts.credentials.load()?.deviceId

    fun bufferedHeartbeats(): Int = parts.buffer.size()

    fun pendingResultCount(): Int = pendingResults.size()

    fun intervalMs(): Long {
        val sec = settings.configuredIntervalSec ?: settings.serverIntervalSec
        return Math.max(StandardExecutors.MIN_INTERVAL_SEC, Math.min(StandardExecutors.MAX_INTERVAL_SEC, sec.toLong())) * 1000
    }

    /**
     * At process start: reports the outcomes that became known while the agent was not running
     * (a REBOOT's boot, the agent's own update). The reports are retried like any result.
     */
    fun start(): Int {
        if (!isEnrolled()) return 0
        return parts.pendingOutcomes?.resolve(reporter) ?: 0
    }

    /** Sessions refused with `invalid_credentials` in a row; the identity is kept meanwhile. */
    fun authRefusals(): Int = sessions.refusals()

    /**
     * [allowCleartext]: the enrollment's own `allow_cleartext=true`; `http://` needs it or the
     * build's allowance ([ServerUrlPolicy]).
     */
    @Synchronized
    fun enroll(serverUrl: String, enrollmentToken: String, allowCleartext: Boolean = false): EnrollOutcome {
        val urlProblem = ServerUrlPolicy.check(serverUrl, allowCleartext || parts.buildAllowsCleartext)
        if (urlProblem != null) return EnrollOutcome.Refused(urlProblem, "server URL refused ($urlProblem): $serverUrl")
        val token = fcmToken
        val api = DeviceApi(serverUrl, parts.http)
        return when (val result = api.enroll(EnrollRequest(enrollmentToken, parts.deviceInfo(), token))) {
            is ApiResult.Ok -> {
                val e = result.value
                parts.credentials.save(Credentials(serverUrl.trimEnd('/'), e.deviceId, e.deviceSecret, e.hmacKey))
                if (e.heartbeatIntervalSec > 0) settings.serverIntervalSec = e.heartbeatIntervalSec
                settings.reportedFcmToken = token
                sessions.reset()
                // a new identity: the server has no report from it, whatever this device applied before
                parts.policyState.clear()
                log.info("enrolled", "deviceId" to e.deviceId, "server" to serverUrl)
                parts.events.add("agent.enrolled", mapOf("agentVersion" to parts.agentVersion))
                wakeup.requestBeat()
                EnrollOutcome.Enrolled
            }
            is ApiResult.Failed -> {
                log.warn("enrollment failed", "status" to result.status, "code" to result.code, "error" to result.message)
                if (result.transient) EnrollOutcome.RetryLater(result.toString(), result.retryAfterSec)
                else EnrollOutcome.Refused(result.code ?: "http_${result.status}", result.message)
            }
        }
    }

    /** Builds and sends one heartbeat; on success runs its commands and uploads buffered ones. */
    @Synchronized
    fun heartbeat(): BeatReport {
        val creds = parts.credentials.load() ?: return BeatReport(false, 0, parts.buffer.size(), 0, "not enrolled")
        val token = fcmToken
        val unreported = if (token != null && token != settings.reportedFcmToken) token else null
        val body = builder.build(parts.telemetry.snapshot(), parts.events.take(), unreported, policySync?.appliedHash())
        val json = Json.write(body)
        val api = DeviceApi(creds.serverUrl, parts.http)
        val result = sessions.authorized(api) { api.heartbeat(it, json) }
        if (result is ApiResult.Failed) {
            keepOrDrop(json, result)
            return BeatReport(false, 0, parts.buffer.size(), 0, result.toString())
        }
        val answer = (result as ApiResult.Ok).value
        if (unreported != null) settings.reportedFcmToken = unreported
        val next = answer.nextHeartbeatSec
        if (next != null && next != settings.serverIntervalSec) settings.serverIntervalSec = next
        val commands = dispatcher(creds)
        // cancels first: a cancelled command never runs, even when its envelope is in this answer too
        if (answer.cancelled.isNotEmpty()) commands.cancel(answer.cancelled)
        for (element in answer.commands) commands.receive(Envelope.fromJson(element), Channel.HEARTBEAT)
        val flushed = flush(api)
        parts.pendingOutcomes?.resolve(reporter)
        pendingResults.retry(this)
        val policy = convergePolicy(creds, api, answer.policy)
        log.debug("heartbeat sent", "seq" to body.seq, "commands" to answer.commands.size, "flushed" to flushed, "policy" to policy?.code)
        return BeatReport(true, answer.commands.size, parts.buffer.size(), flushed, null, policy)
    }

    /**
     * Forgets this device's identity and waits to be enrolled again. The only way out of an
     * enrollment: the server-signed RELEASE_OWNER calls it once its result is reported (a 401 never
     * calls it, see [Sessions]).
     */
    @Synchronized
    fun retire(reason: String) {
        val creds = parts.credentials.load() ?: return
        log.warn("retiring: forgetting this device's identity", "deviceId" to creds.deviceId, "reason" to reason)
        parts.credentials.clear()
        sessions.reset()
        dispatcher = null
        dispatcherFor = null
    }

    /** Uploads buffered heartbeats without building a new one; true when the buffer is empty after. */
    @Synchronized
    fun flush(): Boolean {
        val creds = parts.credentials.load() ?: return false
        flush(DeviceApi(creds.serverUrl, parts.http))
        return parts.buffer.size() == 0
    }

    /** An FCM data message. */
    fun onPush(data: Map<String, String>): Verdict? {
        val creds = parts.credentials.load() ?: return null
        return synchronized(this) { dispatcher(creds) }.receive(data, Channel.PUSH)
    }

    /** One attempt at `POST /commands/{cid}/result`, for reporters (and the app's WorkManager worker). */
    fun postResult(cid: String, result: CommandResult): PostOutcome {
        val creds = parts.credentials.load() ?: return PostOutcome.DROP
        val api = DeviceApi(creds.serverUrl, parts.http)
        val answer = sessions.authorized(api) { api.postResult(it, cid, result) }
        if (answer is ApiResult.Ok) return PostOutcome.DONE
        val failed = answer as ApiResult.Failed
        log.warn("result report failed", "cid" to cid, "status" to result.status, "answer" to failed.toString())
        return when {
            failed.transient -> PostOutcome.RETRY
            failed.status == 409 -> PostOutcome.DONE // command_finished: it already has a final result
            failed.status == 401 && isEnrolled() -> PostOutcome.RETRY
            else -> PostOutcome.DROP
        }
    }

    // AgentControl: what commands may change.

    override fun heartbeatNow() = wakeup.requestBeat()

    override fun setHeartbeatIntervalSec(seconds: Int) {
        settings.configuredIntervalSec = seconds
        wakeup.requestBeat()
    }

    override fun setKioskPackage(packageName: String) {
        settings.kioskPackage = packageName
    }

    override fun kioskPackage(): String? = settings.kioskPackage

    override fun forgetEnrollment(reason: String) = retire(reason)

    private fun flush(api: DeviceApi): Int {
        var sent = 0
        while (true) {
            val json = parts.buffer.oldest() ?: break
            val result = sessions.authorized(api) { api.heartbeat(it, json) }
            if (result is ApiResult.Failed && (result.transient || result.status == 401)) break
            if (result is ApiResult.Failed) log.error("buffered heartbeat refused, dropped", null, "answer" to result.toString())
            else sent++
            parts.buffer.removeOldest()
        }
        if (sent > 0) log.info("buffered heartbeats uploaded", "count" to sent, "left" to parts.buffer.size())
        return sent
    }

    /** v2: after a heartbeat, fetch, verify, apply and report the policy when its hash is not the one applied. */
    private fun convergePolicy(creds: Credentials, api: DeviceApi, ref: PolicyRef?): PolicyOutcome? {
        val sync = policySync ?: return null
        val verifier = PolicyVerifier(creds.deviceId, creds.hmacKey)
        return sync.converge(ref, verifier, object : PolicySync.Server {
            override fun fetch(): ApiResult<PolicyDocument> = sessions.authorized(api) { api.fetchPolicy(it) }

            override fun report(bodyJson: String): ApiResult<String> = sessions.authorized(api) { api.reportPolicy(it, bodyJson) }
        })
    }

    private fun keepOrDrop(json: String, failure: ApiResult.Failed) {
        if (failure.transient || (failure.status == 401 && isEnrolled())) {
            parts.buffer.add(json)
            log.warn("heartbeat failed, buffered", "answer" to failure.toString(), "buffered" to parts.buffer.size())
        } else {
            log.error("heartbeat refused, dropped", null, "answer" to failure.toString())
        }
    }

    private fun dispatcher(creds: Credentials): CommandDispatcher {
        val current = dispatcher
        if (current != null && dispatcherFor == creds.deviceId) return current
        val verifier = EnvelopeVerifier(creds.deviceId, creds.hmacKey, parts.replayStore)
        val created = CommandDispatcher(verifier, executors, reporter, parts.commandRunner, parts.nowMs, log)
        dispatcher = created
        dispatcherFor = creds.deviceId
        return created
    }

    companion object {
        /** Syntax only (http or https with a host); whether http is allowed is [ServerUrlPolicy]'s call. */
        fun isHttpUrl(value: String): Boolean = ServerUrlPolicy.check(value, true) == null
    }
}

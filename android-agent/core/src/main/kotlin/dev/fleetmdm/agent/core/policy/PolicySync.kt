package dev.fleetmdm.agent.core.policy

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.ApiResult
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.PolicyDocument
import dev.fleetmdm.agent.core.protocol.PolicyRef
import dev.fleetmdm.agent.core.protocol.boolean
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.util.AtomicFiles
import java.io.File
import java.time.Instant

/**
 * What the device applied last: the hash of the document applied and reported, and whether every
 * item of it applied (or is unsupported here: retrying will not change that). Kept in [file]
 * (written atomically) so a restart neither re-applies the same document nor forgets a failed item;
 * in memory when [file] is null. A missing or damaged file is "nothing applied yet": the next
 * heartbeat fetches and applies again, which is harmless (applying is idempotent).
 */
class PolicyStateStore(private val file: File? = null) {
    @Volatile var appliedHash: String? = null
        private set

    /** False while items of [appliedHash] failed: it is applied again on the retry schedule. */
    @Volatile var complete: Boolean = true
        private set

    init {
        if (file != null && file.isFile) {
            try {
                val json = Json.parseObject(AtomicFiles.read(file))
                appliedHash = json?.string("hash")
                complete = json?.boolean("complete") ?: true
            } catch (e: Exception) {
                appliedHash = null
            }
        }
    }

    /** A new enrollment: its server has no report of what was applied before. */
    @Synchronized
    fun clear() {
        appliedHash = null
        complete = true
        file?.delete()
    }

    @Synchronized
    fun save(hash: String, complete: Boolean) {
        appliedHash = hash
        this.complete = complete
        if (file == null) return
        val json = JsonObject()
        json.addProperty("hash", hash)
        json.addProperty("complete", complete)
        AtomicFiles.write(file, json.toString())
    }
}

/** What one [PolicySync.converge] did. */
enum class PolicyOutcome(val code: String) {
    /** The answer named no policy (none applies, or a v1 server). */
    NONE("none"),
    UP_TO_DATE("up_to_date"),
    /** A previous attempt failed and its backoff has not run out. */
    WAITING("waiting"),
    APPLIED("applied"),
    /** Applied and reported, but items failed: applied again on the retry schedule. */
    PARTIAL("partial"),
    FETCH_FAILED("fetch_failed"),
    /** The envelope did not verify (signature, addressee, expiry, type, hash): not applied, not reported. */
    REFUSED("refused"),
    REPORT_FAILED("report_failed")
}

/**
 * The device side of policy convergence (protocol v2, docs/protocol.md "Policies"). After each
 * heartbeat the agent hands it the answer's `policy`; when its hash is not the one applied last
 * (or items of the last one failed), it fetches the document, verifies it ([PolicyVerifier]:
 * addressee, HMAC, times, type, hash = cid), applies it item by item ([PolicyApplier]) and reports.
 * The hash is kept as applied only once the report went through, like the simulator does, so an
 * unreported apply is applied (idempotently) and reported again.
 *
 * Any failure - no answer, a refused envelope, a failed report, failed items - is retried on
 * [backoff] (elapsed time, at the next heartbeat after it ran out); a new hash is tried at once.
 * Nothing here throws into the heartbeat: a failed convergence never fails a heartbeat.
 */
class PolicySync(
    port: PolicyPort,
    private val state: PolicyStateStore,
    private val backoff: Backoff,
    private val elapsedMs: () -> Long,
    private val nowMs: () -> Long,
    private val log: Logger,
    private val events: EventQueue? = null
) {
    private val applier = PolicyApplier(port)
    private var failures = 0
    private var retryAtMs = 0L
    private var retryHash: String? = null

    /** The hash for the next heartbeat's `policy`; null until a document was applied and reported. */
    fun appliedHash(): String? = state.appliedHash

    /** The device api's calls, already authorized (sessions renewed on a 401) by the agent. */
    interface Server {
        fun fetch(): ApiResult<PolicyDocument>

        fun report(bodyJson: String): ApiResult<String>
    }

    @Synchronized
    fun converge(ref: PolicyRef?, verifier: PolicyVerifier, server: Server): PolicyOutcome {
        if (ref == null) return PolicyOutcome.NONE
        if (ref.hash == state.appliedHash && state.complete) {
            failures = 0
            return PolicyOutcome.UP_TO_DATE
        }
        if (failures > 0 && ref.hash == retryHash && elapsedMs() < retryAtMs) return PolicyOutcome.WAITING
        val outcome = try {
            attempt(ref, verifier, server)
        } catch (e: Exception) {
            log.error("policy convergence failed", e, "hash" to ref.hash)
            PolicyOutcome.FETCH_FAILED
        }
        if (outcome == PolicyOutcome.APPLIED) {
            failures = 0
        } else {
            failures++
            retryHash = ref.hash
            retryAtMs = elapsedMs() + backoff.delayMs(failures)
        }
        return outcome
    }

    private fun attempt(ref: PolicyRef, verifier: PolicyVerifier, server: Server): PolicyOutcome {
        val fetched = server.fetch()
        if (fetched is ApiResult.Failed) {
            log.warn("policy fetch failed", "hash" to ref.hash, "answer" to fetched.toString())
            return PolicyOutcome.FETCH_FAILED
        }
        val document = (fetched as ApiResult.Ok).value
        if (document.hash == null) {
            // The policy went away between the heartbeat and the fetch; the next answer says so.
            log.info("no policy applies any more", "version" to document.version)
            return PolicyOutcome.FETCH_FAILED
        }
        val verdict = verifier.verify(document.envelope, nowMs() / 1000)
        if (verdict is PolicyVerdict.Rejected) {
            // Not applied and not reported (docs/protocol.md): the protocol has no report for a document never applied.
            log.warn("policy document refused", "hash" to ref.hash, "reason" to verdict.reason)
            events?.add("policy.refused", mapOf("reason" to verdict.reason, "version" to document.version))
            return PolicyOutcome.REFUSED
        }
        val accepted = verdict as PolicyVerdict.Accepted
        val results = applier.apply(accepted.document)
        val body = applier.report(accepted.hash, results)
        body.addProperty("appliedAt", Instant.ofEpochMilli(nowMs()).toString())
        val reported = server.report(body.toString())
        if (reported is ApiResult.Failed) {
            log.warn("policy report failed; applying and reporting again later", "hash" to accepted.hash, "answer" to reported.toString())
            return PolicyOutcome.REPORT_FAILED
        }
        val failed = results.filter { it.status == ItemStatus.FAILED }
        state.save(accepted.hash, failed.isEmpty())
        val compliance = (reported as ApiResult.Ok).value
        if (failed.isEmpty()) {
            log.info("policy applied", "hash" to accepted.hash, "version" to document.version, "state" to compliance)
            return PolicyOutcome.APPLIED
        }
        log.warn(
            "policy applied with failed items; retrying later", "hash" to accepted.hash, "state" to compliance,
            "failed" to failed.joinToString(",") { it.item }
        )
        return PolicyOutcome.PARTIAL
    }
}

package dev.fleetmdm.agent.core.policy

import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.command.EnvelopeVerifier
import dev.fleetmdm.agent.core.command.RememberOutcome
import dev.fleetmdm.agent.core.command.ReplayStore
import dev.fleetmdm.agent.core.command.Verdict
import dev.fleetmdm.agent.core.protocol.Envelope
import java.nio.charset.StandardCharsets
import java.security.MessageDigest

/** A policy envelope's verdict: the document and its hash, or why it was refused. */
sealed class PolicyVerdict {
    class Accepted(val hash: String, val document: JsonObject) : PolicyVerdict()

    /** [reason] is an envelope refusal code (bad_signature, expired, ...) or wrong_type / hash_mismatch. */
    class Rejected(val reason: String) : PolicyVerdict()
}

/** Policies are fetched again and again (idempotent to apply), so nothing is remembered as a replay. */
private object NoReplays : ReplayStore {
    override fun remember(cid: String, validUntilSec: Long, nowSec: Long): RememberOutcome = RememberOutcome.NEW
    override fun contains(cid: String): Boolean = false
}

/**
 * The device side of a policy document (device protocol v2, docs/protocol.md "Policies"): an
 * envelope signed like a command, checked by the same [EnvelopeVerifier] (addressee, signature,
 * times), then: type "POLICY", and the cid must be the SHA-256 (lowercase hex) of the params, which
 * are the document's canonical JSON.
 */
class PolicyVerifier(deviceId: String, hmacKeyBase64: String, clockSkewSec: Long = EnvelopeVerifier.CLOCK_SKEW_SEC) {
    private val envelopes = EnvelopeVerifier(deviceId, hmacKeyBase64, NoReplays, clockSkewSec)

    fun verify(raw: Map<String, *>, nowSec: Long): PolicyVerdict = verify(Envelope.fromMap(raw), nowSec)

    fun verify(envelope: Envelope?, nowSec: Long): PolicyVerdict {
        val verdict = envelopes.verify(envelope, nowSec)
        if (verdict is Verdict.Rejected) return PolicyVerdict.Rejected(verdict.reason.code)
        val accepted = verdict as Verdict.Accepted
        val e = accepted.envelope
        if (e.type != TYPE) return PolicyVerdict.Rejected("wrong_type")
        if (sha256Hex(e.params) != e.cid) return PolicyVerdict.Rejected("hash_mismatch")
        return PolicyVerdict.Accepted(e.cid, accepted.params)
    }

    companion object {
        const val TYPE = "POLICY"

        fun sha256Hex(text: String): String {
            val digest = MessageDigest.getInstance("SHA-256").digest(text.toByteArray(StandardCharsets.UTF_8))
            val out = StringBuilder(64)
            for (b in digest) out.append(String.format("%02x", b.toInt() and 0xff))
            return out.toString()
        }
    }
}

enum class ItemStatus(val code: String) { APPLIED("applied"), FAILED("failed"), UNSUPPORTED("unsupported") }

class ItemResult(val item: String, val status: ItemStatus, val reason: String?)

/**
 * What applying needs of the device (DevicePolicyManager on Android; a fake in tests). [apply] sets
 * one item to its value - setting what is already set is a no-op - and throws when it cannot.
 */
interface PolicyPort {
    val sdkInt: Int
    fun apply(item: String, value: JsonElement)
}

/**
 * Applies a verified document item by item and says, per item, what happened: applied, failed (with
 * the exception's message) or unsupported (the API level is too low, or this agent does not know the
 * item). One item failing never stops the others.
 */
class PolicyApplier(private val port: PolicyPort) {
    fun apply(document: JsonObject): List<ItemResult> {
        val results = ArrayList<ItemResult>()
        for (item in document.entrySet().map { it.key }.sorted()) {
            val minSdk = MIN_SDK[item]
            if (minSdk == null) {
                results.add(ItemResult(item, ItemStatus.UNSUPPORTED, "unknown to this agent"))
                continue
            }
            if (port.sdkInt < minSdk) {
                results.add(ItemResult(item, ItemStatus.UNSUPPORTED, "needs API $minSdk (device has ${port.sdkInt})"))
                continue
            }
            try {
                port.apply(item, document.get(item))
                results.add(ItemResult(item, ItemStatus.APPLIED, null))
            } catch (e: Exception) {
                val why = (e.message ?: e.javaClass.simpleName).take(500)
                results.add(ItemResult(item, ItemStatus.FAILED, why))
            }
        }
        return results
    }

    /** The body of POST /api/v1/device/policy/report. */
    fun report(hash: String, results: List<ItemResult>): JsonObject {
        val body = JsonObject()
        body.addProperty("hash", hash)
        val items = JsonArray()
        for (r in results) {
            val o = JsonObject()
            o.addProperty("item", r.item)
            o.addProperty("status", r.status.code)
            if (r.reason != null) o.addProperty("reason", r.reason)
            items.add(o)
        }
        body.add("items", items)
        return body
    }

    companion object {
        /** The lowest API level each item can be applied on (the DevicePolicyManager call it needs). */
        val MIN_SDK: Map<String, Int> = mapOf(
            "kioskApp" to 21,
            "agentRelease" to 21,
            "heartbeatIntervalSec" to 21,
            "lockTaskFeatures" to 28,
            "keyguardDisabled" to 23,
            "statusBarDisabled" to 23,
            "userRestrictions" to 21,
            "kioskPermissions" to 23,
            "systemUpdate" to 23,
            "screenTimeoutSec" to 28,
            "timeZone" to 28
        )
    }
}

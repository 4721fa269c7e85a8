package dev.fleetmdm.agent.core.command

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.protocol.Envelope
import dev.fleetmdm.agent.core.protocol.Json
import java.nio.charset.StandardCharsets
import java.security.MessageDigest
import java.util.Base64
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/** Why an envelope was refused; [code] is what goes into the `rejected` result's `error`. */
enum class RejectReason(val code: String) {
    MALFORMED("malformed"),
    UNSUPPORTED_VERSION("unsupported_version"),
    WRONG_DEVICE("wrong_device"),
    BAD_SIGNATURE("bad_signature"),
    EXPIRED("expired"),
    NOT_YET_VALID("not_yet_valid"),
    BAD_PARAMS("bad_params"),
    REPLAYED("replayed"),
    REPLAY_STORE_FULL("replay_store_full")
}

sealed class Verdict {
    class Accepted(val envelope: Envelope, val params: JsonObject, val issuedAtSec: Long, val expiresAtSec: Long) : Verdict()

    /** [cid] is set when the envelope named this device, so the refusal may be reported for it. */
    class Rejected(val reason: RejectReason, val cid: String?) : Verdict()
}

/** The signing rule of device protocol v1, shared by the verifier and the tests. */
object EnvelopeSignature {
    private const val PREFIX = "mdm-cmd-v1"

    fun signingInput(cid: String, did: String, type: String, params: String, iat: String, exp: String): String =
        listOf(PREFIX, cid, did, type, params, iat, exp).joinToString("\n")

    /** base64url without padding of HMAC-SHA256(key, UTF-8 of the signing input). */
    fun sign(key: ByteArray, signingInput: String): String {
        val mac = Mac.getInstance("HmacSHA256")
        mac.init(SecretKeySpec(key, "HmacSHA256"))
        val digest = mac.doFinal(signingInput.toByteArray(StandardCharsets.UTF_8))
        return Base64.getUrlEncoder().withoutPadding().encodeToString(digest)
    }
}

/**
 * The device side of signed commands (docs/protocol.md, "Signed commands"). Checks run in an order
 * that never acts on unauthenticated content: shape, version, addressee, signature, then the signed
 * times, params and replay. An accepted envelope's cid is remembered, so the same command arriving
 * again (by heartbeat answer and by push) runs once.
 */
class EnvelopeVerifier(
    private val deviceId: String,
    hmacKeyBase64: String,
    private val replays: ReplayStore,
    private val clockSkewSec: Long = CLOCK_SKEW_SEC
) {
    private val key: ByteArray = Base64.getDecoder().decode(hmacKeyBase64)

    init {
        require(key.size >= 16) { "hmacKey must decode to at least 16 bytes" }
    }

    fun verify(raw: Map<String, *>, nowSec: Long): Verdict = verify(Envelope.fromMap(raw), nowSec)

    fun verify(envelope: Envelope?, nowSec: Long): Verdict {
        if (envelope == null) return Verdict.Rejected(RejectReason.MALFORMED, null)
        val mine = if (envelope.did == deviceId) envelope.cid else null
        if (envelope.v != "1") return Verdict.Rejected(RejectReason.UNSUPPORTED_VERSION, mine)
        if (envelope.did != deviceId) return Verdict.Rejected(RejectReason.WRONG_DEVICE, null)
        if (!signatureValid(envelope)) return Verdict.Rejected(RejectReason.BAD_SIGNATURE, mine)
        val iat = unixSeconds(envelope.iat)
        val exp = unixSeconds(envelope.exp)
        if (iat == null || exp == null || exp < iat) return Verdict.Rejected(RejectReason.MALFORMED, mine)
        if (exp + clockSkewSec < nowSec) return Verdict.Rejected(RejectReason.EXPIRED, mine)
        if (iat - clockSkewSec > nowSec) return Verdict.Rejected(RejectReason.NOT_YET_VALID, mine)
        val params = Json.parseObject(envelope.params) ?: return Verdict.Rejected(RejectReason.BAD_PARAMS, mine)
        return when (replays.remember(envelope.cid, exp + clockSkewSec, nowSec)) {
            RememberOutcome.NEW -> Verdict.Accepted(envelope, params, iat, exp)
            RememberOutcome.SEEN -> Verdict.Rejected(RejectReason.REPLAYED, mine)
            RememberOutcome.FULL -> Verdict.Rejected(RejectReason.REPLAY_STORE_FULL, mine)
        }
    }

    /**
     * Marks a command the server cancelled as never to run: its cid goes into the replay store, so
     * its envelope is refused as a replay whenever it arrives. NEW when it had not run before.
     */
    fun forbid(cid: String, nowSec: Long): RememberOutcome = replays.remember(cid, nowSec + CANCEL_MEMORY_SEC, nowSec)

    private fun signatureValid(e: Envelope): Boolean {
        // Only the canonical form is accepted: 43 base64url characters. Comparing encodings rather
        // than decoded bytes also refuses a sig whose unused low bits were altered.
        if (!SIG_PATTERN.matches(e.sig)) return false
        val expected = EnvelopeSignature.sign(key, EnvelopeSignature.signingInput(e.cid, e.did, e.type, e.params, e.iat, e.exp))
        // MessageDigest.isEqual is constant-time for inputs of equal length (both are 43 here).
        return MessageDigest.isEqual(expected.toByteArray(StandardCharsets.US_ASCII), e.sig.toByteArray(StandardCharsets.US_ASCII))
    }

    companion object {
        /** Device clocks drift: an envelope is honoured this long past `exp` and this early before `iat`. */
        const val CLOCK_SKEW_SEC = 60L
        /** How long a cancelled cid is remembered: the longest a command lives (30 days). */
        const val CANCEL_MEMORY_SEC = 30L * 86_400L
        private val SIG_PATTERN = Regex("^[A-Za-z0-9_-]{43}$")
        private val UNIX_SECONDS = Regex("^[0-9]{1,12}$")

        private fun unixSeconds(value: String): Long? = if (UNIX_SECONDS.matches(value)) value.toLong() else null
    }
}

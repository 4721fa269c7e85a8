package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.command.EnvelopeVerifier
import dev.fleetmdm.agent.core.command.RejectReason
import dev.fleetmdm.agent.core.command.Verdict
import dev.fleetmdm.agent.core.protocol.Envelope
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class EnvelopeVerifierTest {
    private val replays = BoundedReplayStore(keepAtLeast = 2, capacity = 3)
    private val verifier = EnvelopeVerifier(DEVICE_ID, HMAC_KEY, replays)

    private fun reason(v: Verdict): String = if (v is Verdict.Rejected) v.reason.code else "accepted"

    @Test
    fun `expiry allows exactly the clock skew and no more`() {
        assertEquals("accepted", reason(verifier.verify(signedEnvelope("c1", exp = NOW_SEC - 60, iat = NOW_SEC - 100), NOW_SEC)))
        assertEquals("expired", reason(verifier.verify(signedEnvelope("c2", exp = NOW_SEC - 61, iat = NOW_SEC - 100), NOW_SEC)))
        assertEquals("accepted", reason(verifier.verify(signedEnvelope("c3", iat = NOW_SEC + 60), NOW_SEC)))
        assertEquals("not_yet_valid", reason(verifier.verify(signedEnvelope("c4", iat = NOW_SEC + 61), NOW_SEC)))
    }

    @Test
    fun `a refused envelope does not use up its cid`() {
        val early = signedEnvelope("same", iat = NOW_SEC + 120)
        assertEquals("not_yet_valid", reason(verifier.verify(early, NOW_SEC)))
        assertFalse(replays.contains("same"))
        assertEquals("accepted", reason(verifier.verify(early, NOW_SEC + 120)))
        assertEquals("replayed", reason(verifier.verify(early, NOW_SEC + 121)))
    }

    @Test
    fun `the cid is given for refusals that name this device only`() {
        val forged = signedEnvelope("c5").copy(type = "WIPE")
        val bad = verifier.verify(forged, NOW_SEC) as Verdict.Rejected
        assertEquals(RejectReason.BAD_SIGNATURE, bad.reason)
        assertEquals("c5", bad.cid)
        val other = verifier.verify(signedEnvelope("c6", did = "0e9d8c7b-6a59-4847-a635-241302f1e0d9"), NOW_SEC) as Verdict.Rejected
        assertEquals(RejectReason.WRONG_DEVICE, other.reason)
        assertNull(other.cid)
    }

    @Test
    fun `fields must all be non-empty strings of bounded length`() {
        val good = signedEnvelope("c7").toMap()
        assertEquals("malformed", reason(verifier.verify(good + ("iat" to 1773143970L), NOW_SEC)))
        assertEquals("malformed", reason(verifier.verify(good + ("type" to ""), NOW_SEC)))
        assertEquals("malformed", reason(verifier.verify(good - "params", NOW_SEC)))
        assertEquals("malformed", reason(verifier.verify(good + ("params" to "{\"a\":\"" + "x".repeat(Envelope.MAX_FIELD_LENGTH) + "\"}"), NOW_SEC)))
        // Unknown extra fields are not part of the envelope and do not matter.
        assertEquals("accepted", reason(verifier.verify(good + ("extra" to 42), NOW_SEC)))
    }

    @Test
    fun `only the canonical signature encoding is accepted`() {
        val env = signedEnvelope("c8")
        assertEquals("bad_signature", reason(verifier.verify(env.copy(sig = env.sig + "="), NOW_SEC)))
        assertEquals("bad_signature", reason(verifier.verify(env.copy(sig = env.sig.substring(0, 42)), NOW_SEC)))
        // The last base64url character carries 4 unused bits: a different character decoding to the
        // same bytes must still be refused.
        val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        val twin = env.sig.substring(0, 42) + alphabet[alphabet.indexOf(env.sig[42]) + 1]
        val decoder = java.util.Base64.getUrlDecoder()
        assertTrue(java.util.Arrays.equals(decoder.decode(env.sig), decoder.decode(twin)))
        assertEquals("bad_signature", reason(verifier.verify(env.copy(sig = twin), NOW_SEC)))
        assertEquals("accepted", reason(verifier.verify(env, NOW_SEC)))
    }

    @Test
    fun `params must be a strict JSON object`() {
        assertEquals("bad_params", reason(verifier.verify(signedEnvelope("p1", params = "{a:1}"), NOW_SEC)))
        assertEquals("bad_params", reason(verifier.verify(signedEnvelope("p2", params = "{} x"), NOW_SEC)))
        assertEquals("bad_params", reason(verifier.verify(signedEnvelope("p3", params = "\"{}\""), NOW_SEC)))
        assertEquals("bad_params", reason(verifier.verify(signedEnvelope("p4", params = "{'a':1}"), NOW_SEC)))
        assertEquals("accepted", reason(verifier.verify(signedEnvelope("p5", params = " {\"a\":[1,{\"b\":null}]} "), NOW_SEC)))
    }

    @Test
    fun `times must be plain decimal seconds`() {
        assertEquals("malformed", reason(verifier.verify(signedEnvelope("t1").let { e -> resign(e, iat = "+1773143970") }, NOW_SEC)))
        assertEquals("malformed", reason(verifier.verify(signedEnvelope("t2").let { e -> resign(e, exp = "1773147600.0") }, NOW_SEC)))
    }

    @Test
    fun `a full replay store fails closed`() {
        for (i in 1..3) assertEquals("accepted", reason(verifier.verify(signedEnvelope("full$i"), NOW_SEC)))
        val refused = verifier.verify(signedEnvelope("full4"), NOW_SEC) as Verdict.Rejected
        assertEquals(RejectReason.REPLAY_STORE_FULL, refused.reason)
        assertEquals("full4", refused.cid)
    }

    @Test
    fun `a key too short to be an enrollment key is refused up front`() {
        assertThrows(IllegalArgumentException::class.java) { EnvelopeVerifier(DEVICE_ID, "AAEC", BoundedReplayStore()) }
        assertTrue(reason(EnvelopeVerifier(DEVICE_ID, HMAC_KEY, BoundedReplayStore()).verify(signedEnvelope("k"), NOW_SEC)) == "accepted")
    }

    private fun resign(e: Envelope, iat: String = e.iat, exp: String = e.exp): Envelope {
        val input = dev.fleetmdm.agent.core.command.EnvelopeSignature.signingInput(e.cid, e.did, e.type, e.params, iat, exp)
        val sig = dev.fleetmdm.agent.core.command.EnvelopeSignature.sign(java.util.Base64.getDecoder().decode(HMAC_KEY), input)
        return e.copy(iat = iat, exp = exp, sig = sig)
    }
}

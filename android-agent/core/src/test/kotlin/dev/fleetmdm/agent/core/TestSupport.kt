package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.command.EnvelopeSignature
import dev.fleetmdm.agent.core.heartbeat.AppSnapshot
import dev.fleetmdm.agent.core.heartbeat.DeviceSnapshot
import dev.fleetmdm.agent.core.heartbeat.Telemetry
import dev.fleetmdm.agent.core.log.Level
import dev.fleetmdm.agent.core.log.LogSink
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.protocol.Envelope
import java.util.Base64
import java.util.Collections

const val DEVICE_ID = "6f0c3a52-8d1e-4b7a-9c2f-1a2b3c4d5e6f"
const val HMAC_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
const val NOW_SEC = 1773144000L

/** Signs envelopes the way the server does, for tests that need fresh valid ones. */
fun signedEnvelope(
    cid: String,
    type: String = "PING",
    params: String = "{}",
    iat: Long = NOW_SEC - 30,
    exp: Long = NOW_SEC + 3600,
    did: String = DEVICE_ID,
    key: String = HMAC_KEY
): Envelope {
    val input = EnvelopeSignature.signingInput(cid, did, type, params, iat.toString(), exp.toString())
    val sig = EnvelopeSignature.sign(Base64.getDecoder().decode(key), input)
    return Envelope("1", cid, did, type, params, iat.toString(), exp.toString(), sig)
}

class MemorySink : LogSink {
    val lines: MutableList<String> = Collections.synchronizedList(ArrayList<String>())

    override fun write(level: Level, line: String) {
        lines.add(line)
    }
}

fun testLogger(): Logger = Logger(MemorySink(), { NOW_SEC * 1000 }, Level.DEBUG)

class FixedTelemetry(var battery: Int = 76) : Telemetry {
    override fun snapshot() = DeviceSnapshot(
        battery, false, 31.5, 1_200_000_000L, 4_000_000_000L, 10_000_000_000L, 64_000_000_000L, "wifi", -55, "10.0.0.7",
        AppSnapshot("com.example.kiosk", true, true, "2.3.0", 230L, 16L), 86_400L
    )
}

/** A clock tests move by hand. */
class ManualClock(var ms: Long = NOW_SEC * 1000) {
    val now: () -> Long = { ms }
}

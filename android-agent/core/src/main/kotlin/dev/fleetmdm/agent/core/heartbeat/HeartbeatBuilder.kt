package dev.fleetmdm.agent.core.heartbeat

import dev.fleetmdm.agent.core.protocol.AppliedPolicy
import dev.fleetmdm.agent.core.protocol.AppStatus
import dev.fleetmdm.agent.core.protocol.Battery
import dev.fleetmdm.agent.core.protocol.DeviceEvent
import dev.fleetmdm.agent.core.protocol.HeartbeatBody
import dev.fleetmdm.agent.core.protocol.Memory
import dev.fleetmdm.agent.core.protocol.Network
import dev.fleetmdm.agent.core.protocol.Storage
import java.time.Instant
import java.util.UUID

/** What the device reads from its hardware and the kiosk app for one heartbeat. */
class DeviceSnapshot(
    val batteryLevel: Int,
    val charging: Boolean,
    val temperatureC: Double?,
    val memAvailBytes: Long,
    val memTotalBytes: Long,
    val storageFreeBytes: Long?,
    val storageTotalBytes: Long?,
    val networkType: String?,
    val rssi: Int?,
    val ip: String?,
    val app: AppSnapshot,
    val uptimeSec: Long
)

class AppSnapshot(
    val packageName: String,
    val running: Boolean,
    val foreground: Boolean,
    val versionName: String?,
    val versionCode: Long?,
    val lastFrameAgeMs: Long?
)

/** Reads the device's state; the Android app implements it with BatteryManager, StatFs and friends. */
interface Telemetry {
    fun snapshot(): DeviceSnapshot
}

/**
 * Builds heartbeat bodies that the server accepts whatever the hardware reports: every value is
 * brought within the protocol's bounds (a battery at 101 %, availBytes above totalBytes or an RSSI
 * of +5 would otherwise get the whole heartbeat refused with a 400).
 *
 * Each body carries [bootId] (random, one per agent start) and [seq] (0, 1, 2, ... within it), so
 * the same heartbeat sent twice - after a timeout, or from the offline buffer - is one heartbeat.
 */
class HeartbeatBuilder(
    private val agentVersion: String,
    val bootId: String = newBootId(),
    private val nowMs: () -> Long,
    /** The agent's versionCode, from the same build info as [agentVersion]; null: not reported. */
    private val agentVersionCode: Long? = null
) {
    private var seq = 0L

    init {
        require(bootId.isNotEmpty() && bootId.length <= MAX_BOOT_ID) { "bootId must be 1-$MAX_BOOT_ID characters" }
    }

    @Synchronized
    fun build(s: DeviceSnapshot, events: List<DeviceEvent>, fcmToken: String?, appliedPolicyHash: String? = null): HeartbeatBody {
        val memTotal = nonNegative(s.memTotalBytes)
        val storage = if (s.storageTotalBytes != null && s.storageFreeBytes != null && s.storageTotalBytes > 0) {
            val total = nonNegative(s.storageTotalBytes)
            Storage(clamp(s.storageFreeBytes, 0, total), total)
        } else null
        val network = if (s.networkType.isNullOrEmpty()) null else Network(
            s.networkType.take(32),
            if (s.rssi != null && s.rssi >= -200 && s.rssi <= 0) s.rssi else null,
            s.ip?.take(64)?.ifEmpty { null }
        )
        val temperature = s.temperatureC?.let { if (it.isNaN() || it < -50.0 || it > 150.0) null else Math.round(it * 10.0) / 10.0 }
        val app = AppStatus(
            s.app.packageName,
            s.app.running,
            s.app.foreground,
            s.app.versionName?.take(100)?.ifEmpty { null },
            s.app.versionCode?.let { if (it < 0) null else it },
            s.app.lastFrameAgeMs?.let { clamp(it, 0, Int.MAX_VALUE.toLong()) }
        )
        return HeartbeatBody(
            Instant.ofEpochMilli(nowMs()).toString(),
            Battery(Math.max(0, Math.min(100, s.batteryLevel)), s.charging, temperature),
            Memory(clamp(s.memAvailBytes, 0, memTotal), memTotal),
            storage,
            network,
            app,
            nonNegative(s.uptimeSec),
            agentVersion.take(50),
            fcmToken?.take(4096)?.ifEmpty { null },
            if (events.isEmpty()) null else events.take(EventQueue.MAX_PER_HEARTBEAT),
            bootId,
            seq++,
            appliedPolicyHash?.let { if (HASH.matches(it)) AppliedPolicy(it) else null },
            agentVersionCode?.let { if (it < 0) null else Math.min(it, MAX_SAFE_INTEGER) }
        )
    }

    companion object {
        const val MAX_BOOT_ID = 64
        /** A policy hash: lowercase hex SHA-256, as the server checks it. */
        val HASH = Regex("^[0-9a-f]{64}$")
        /** JavaScript's Number.MAX_SAFE_INTEGER: the server's bound for byte counts. */
        const val MAX_SAFE_INTEGER = 9007199254740991L

        fun newBootId(): String = UUID.randomUUID().toString()

        private fun nonNegative(value: Long): Long = clamp(value, 0, MAX_SAFE_INTEGER)

        private fun clamp(value: Long, low: Long, high: Long): Long = Math.max(low, Math.min(high, value))
    }
}

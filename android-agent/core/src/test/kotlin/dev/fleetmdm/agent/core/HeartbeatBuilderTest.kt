package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.heartbeat.AppSnapshot
import dev.fleetmdm.agent.core.heartbeat.DeviceSnapshot
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.HeartbeatBuilder
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.obj
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.protocol.wholeNumber
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class HeartbeatBuilderTest {
    private val clock = ManualClock()
    private val builder = HeartbeatBuilder("1.0.0", "boot-1", clock.now)

    private fun snapshot(
        battery: Int = 76,
        avail: Long = 1_200_000_000,
        total: Long = 4_000_000_000,
        storageFree: Long? = 10_000_000_000,
        storageTotal: Long? = 64_000_000_000,
        network: String? = "wifi",
        rssi: Int? = -55,
        temperature: Double? = 31.54,
        frameAge: Long? = 16
    ) = DeviceSnapshot(
        battery, true, temperature, avail, total, storageFree, storageTotal, network, rssi, "10.0.0.7",
        AppSnapshot("com.example.kiosk", true, false, "2.3.0", 230, frameAge), 86_400
    )

    @Test
    fun `the body has the protocol's shape`() {
        val json = Json.parseObject(Json.write(builder.build(snapshot(), emptyList(), null)))!!
        assertEquals("2026-03-10T12:00:00Z", json.string("sentAt"))
        assertEquals(76L, json.obj("battery")!!.wholeNumber("level"))
        assertEquals(31.5, json.obj("battery")!!.get("temperatureC").asDouble)
        assertEquals(4_000_000_000L, json.obj("memory")!!.wholeNumber("totalBytes"))
        assertEquals("com.example.kiosk", json.obj("app")!!.string("package"))
        assertFalse(json.obj("app")!!.has("packageName"))
        assertEquals(16L, json.obj("app")!!.wholeNumber("lastFrameAgeMs"))
        assertEquals("wifi", json.obj("network")!!.string("type"))
        assertEquals("1.0.0", json.string("agentVersion"))
        assertEquals("boot-1", json.string("bootId"))
        assertEquals(0L, json.wholeNumber("seq"))
        // Absent optional members are left out rather than sent as null.
        assertFalse(json.has("fcmToken"))
        assertFalse(json.has("events"))
        assertFalse(json.has("agentVersionCode"))
    }

    @Test
    fun `the agent's versionCode is reported next to its version name`() {
        val withCode = HeartbeatBuilder("1.2.0", "boot-2", clock.now, 12L)
        val json = Json.parseObject(Json.write(withCode.build(snapshot(), emptyList(), null)))!!
        assertEquals("1.2.0", json.string("agentVersion"))
        assertEquals(12L, json.wholeNumber("agentVersionCode"))
        val negative = HeartbeatBuilder("1.2.0", "boot-3", clock.now, -1L)
        assertFalse(Json.parseObject(Json.write(negative.build(snapshot(), emptyList(), null)))!!.has("agentVersionCode"))
    }

    @Test
    fun `seq counts heartbeats within one boot id`() {
        val seqs = (1..3).map { builder.build(snapshot(), emptyList(), null).seq }
        assertEquals(listOf(0L, 1L, 2L), seqs)
        val other = HeartbeatBuilder("1.0.0", nowMs = clock.now)
        assertTrue(other.bootId.length in 1..64)
        assertTrue(other.bootId != HeartbeatBuilder("1.0.0", nowMs = clock.now).bootId)
        assertThrows(IllegalArgumentException::class.java) { HeartbeatBuilder("1.0.0", "x".repeat(65), clock.now) }
    }

    @Test
    fun `values the hardware gets wrong are brought within the server's bounds`() {
        val body = builder.build(
            snapshot(battery = 104, avail = 5_000, total = 4_000, storageFree = 9, storageTotal = 8, rssi = 12, temperature = Double.NaN, frameAge = -3),
            emptyList(), null
        )
        assertEquals(100, body.battery.level)
        assertEquals(4_000L, body.memory.availBytes)
        assertEquals(8L, body.storage!!.freeBytes)
        assertNull(body.network!!.rssi)
        assertNull(body.battery.temperatureC)
        assertEquals(0L, body.app.lastFrameAgeMs)
        assertEquals(0, builder.build(snapshot(battery = -1), emptyList(), null).battery.level)
    }

    @Test
    fun `missing storage and network are left out`() {
        val body = builder.build(snapshot(storageFree = null, network = null), emptyList(), null)
        assertNull(body.storage)
        assertNull(body.network)
    }

    @Test
    fun `events ride along, at most fifty per heartbeat`() {
        val events = EventQueue(nowMs = clock.now)
        for (i in 1..60) events.add("app.crash", mapOf("code" to i))
        val body = builder.build(snapshot(), events.take(), "fcm-token")
        assertEquals(50, body.events!!.size)
        assertEquals(1, body.events!![0].data!!["code"])
        assertEquals("fcm-token", body.fcmToken)
        assertEquals(10, events.size())
    }
}

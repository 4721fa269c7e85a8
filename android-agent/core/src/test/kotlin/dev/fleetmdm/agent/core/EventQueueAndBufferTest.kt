package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.FileHeartbeatBuffer
import dev.fleetmdm.agent.core.heartbeat.HeartbeatBuffer
import dev.fleetmdm.agent.core.heartbeat.MemoryHeartbeatBuffer
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File

class EventQueueAndBufferTest {
    @TempDir
    lateinit var dir: File

    @Test
    fun `a queue with a file survives a restart, stays bounded, and sets a damaged file aside`() {
        val file = File(dir, "events.json")
        val q = EventQueue(capacity = 3, nowMs = { 1_000L }, file = file)
        for (i in 1..4) q.add("app.relaunched", mapOf("attempt" to i, "ok" to (i % 2 == 0), "package" to "com.example.kiosk"))
        assertEquals(1, q.take(1).size)
        val again = EventQueue(capacity = 3, nowMs = { 2_000L }, file = file)
        val events = again.take()
        assertEquals(listOf(3L, 4L), events.map { it.data!!["attempt"] })
        assertEquals(listOf(false, true), events.map { it.data!!["ok"] })
        assertEquals("1970-01-01T00:00:01Z", events[0].at)
        assertEquals(0, EventQueue(nowMs = { 0L }, file = file).size())
        file.writeText("{not json")
        assertEquals(0, EventQueue(nowMs = { 0L }, file = file).size())
        assertEquals(true, File(dir, "events.json.bad").isFile)
    }

    @Test
    fun `the event queue keeps the newest when full and flattens data`() {
        val q = EventQueue(capacity = 3, nowMs = { 0L })
        for (i in 1..5) q.add("app.crash", mapOf("n" to i))
        assertEquals(2L, q.dropped)
        val taken = q.take()
        assertEquals(listOf(3, 4, 5), taken.map { it.data!!["n"] })
        assertEquals("1970-01-01T00:00:00Z", taken[0].at)
        q.add("app.relaunched", mapOf("nested" to listOf(1, 2), "ok" to true, "nan" to Double.NaN))
        val data = q.take()[0].data!!
        assertEquals("[1, 2]", data["nested"])
        assertEquals(true, data["ok"])
        assertEquals(false, data.containsKey("nan"))
        assertThrows(IllegalArgumentException::class.java) { q.add("App Crash") }
    }

    private fun checkBuffer(buffer: HeartbeatBuffer) {
        assertNull(buffer.oldest())
        for (i in 1..5) buffer.add("{\"seq\":$i}")
        assertEquals(3, buffer.size())
        assertEquals(2L, buffer.dropped())
        assertEquals("{\"seq\":3}", buffer.oldest())
        buffer.removeOldest()
        assertEquals("{\"seq\":4}", buffer.oldest())
    }

    @Test
    fun `the memory buffer keeps the newest heartbeats in order`() = checkBuffer(MemoryHeartbeatBuffer(3))

    @Test
    fun `the file buffer does the same and survives a restart`() {
        val bufferDir = File(dir, "hb")
        checkBuffer(FileHeartbeatBuffer(bufferDir, 3))
        val reopened = FileHeartbeatBuffer(bufferDir, 3)
        assertEquals(2, reopened.size())
        assertEquals("{\"seq\":4}", reopened.oldest())
        reopened.add("{\"seq\":6}")
        reopened.removeOldest()
        reopened.removeOldest()
        assertEquals("{\"seq\":6}", reopened.oldest())
        assertEquals(1, bufferDir.listFiles()!!.count { it.name.endsWith(".json") })
    }
}

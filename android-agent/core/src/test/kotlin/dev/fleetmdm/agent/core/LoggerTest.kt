package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.log.Level
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.obj
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.protocol.wholeNumber
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Test

class LoggerTest {
    @Test
    fun `each line is one JSON object with time, severity, message and fields`() {
        val sink = MemorySink()
        val log = Logger(sink, { NOW_SEC * 1000 }, Level.INFO).with("deviceId" to "d1")
        log.debug("hidden")
        log.info("heartbeat sent", "seq" to 7, "note" to "a \"quoted\"\nline", "skipped" to null)
        log.error("failed", IllegalStateException("boom"))
        assertEquals(2, sink.lines.size)
        val first = Json.parseObject(sink.lines[0])!!
        assertEquals("2026-03-10T12:00:00Z", first.string("time"))
        assertEquals("INFO", first.string("severity"))
        assertEquals("heartbeat sent", first.string("message"))
        assertEquals("d1", first.string("deviceId"))
        assertEquals(7L, first.wholeNumber("seq"))
        assertEquals("a \"quoted\"\nline", first.string("note"))
        assertFalse(first.has("skipped"))
        assertFalse(sink.lines[0].contains("\n"))
        val second = Json.parseObject(sink.lines[1])!!
        assertEquals("ERROR", second.string("severity"))
        assertEquals("boom", second.obj("err")!!.string("message"))
    }
}

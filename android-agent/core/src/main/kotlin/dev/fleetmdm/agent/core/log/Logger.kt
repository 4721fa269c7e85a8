package dev.fleetmdm.agent.core.log

import com.google.gson.JsonElement
import com.google.gson.JsonNull
import com.google.gson.JsonObject
import com.google.gson.JsonPrimitive
import java.time.Instant

enum class Level { DEBUG, INFO, WARN, ERROR }

/** Where log lines go: Logcat and a rotating file on the device, a list in tests. */
interface LogSink {
    fun write(level: Level, line: String)
}

/**
 * Structured logging: one JSON object per line with `time`, `severity`, `message` and the given
 * fields - the shape the server logs in, so a device's log can go through the same tools. Secrets
 * never go in fields.
 */
class Logger(
    private val sink: LogSink,
    private val nowMs: () -> Long = { System.currentTimeMillis() },
    private val minLevel: Level = Level.INFO,
    private val base: Map<String, Any?> = emptyMap()
) {
    fun with(vararg fields: Pair<String, Any?>): Logger = Logger(sink, nowMs, minLevel, base + fields)

    fun debug(message: String, vararg fields: Pair<String, Any?>) = log(Level.DEBUG, message, null, fields)

    fun info(message: String, vararg fields: Pair<String, Any?>) = log(Level.INFO, message, null, fields)

    fun warn(message: String, vararg fields: Pair<String, Any?>) = log(Level.WARN, message, null, fields)

    fun error(message: String, error: Throwable?, vararg fields: Pair<String, Any?>) = log(Level.ERROR, message, error, fields)

    private fun log(level: Level, message: String, error: Throwable?, fields: Array<out Pair<String, Any?>>) {
        if (level.ordinal < minLevel.ordinal) return
        val line = JsonObject()
        line.addProperty("time", Instant.ofEpochMilli(nowMs()).toString())
        line.addProperty("severity", level.name)
        line.addProperty("message", message)
        for ((key, value) in base) line.add(key, element(value))
        for ((key, value) in fields) if (value != null) line.add(key, element(value))
        if (error != null) {
            val err = JsonObject()
            err.addProperty("type", error.javaClass.name)
            err.addProperty("message", error.message ?: "")
            line.add("err", err)
        }
        sink.write(level, line.toString())
    }

    private fun element(value: Any?): JsonElement = when (value) {
        null -> JsonNull.INSTANCE
        is Boolean -> JsonPrimitive(value)
        is Number -> JsonPrimitive(value)
        is JsonElement -> value
        else -> JsonPrimitive(value.toString())
    }

    companion object {
        /** Drops everything (for code paths that do not care). */
        val NONE = Logger(object : LogSink {
            override fun write(level: Level, line: String) {}
        })
    }
}

/** Writes to standard error (the JVM); the Android app has its own sink. */
class StderrSink : LogSink {
    override fun write(level: Level, line: String) {
        System.err.println(line)
    }
}

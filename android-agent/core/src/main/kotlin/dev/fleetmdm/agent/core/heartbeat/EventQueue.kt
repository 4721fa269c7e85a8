package dev.fleetmdm.agent.core.heartbeat

import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.protocol.DeviceEvent
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.obj
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.util.AtomicFiles
import java.io.File
import java.time.Instant
import java.util.ArrayDeque

/**
 * Events (app crashes, relaunches, boots) waiting for the next heartbeat. Bounded: a device that
 * cannot report for long keeps the newest. Events taken into a heartbeat travel with it, into the
 * offline buffer too, so none is lost once taken.
 *
 * With a [file] the queue is kept on disk (rewritten atomically on every change, bounded like the
 * queue) and read back when the agent starts again, so a crash-looping kiosk app's events or a
 * `device.boot` survive a reboot before the next heartbeat. A damaged file is set aside, not fatal.
 */
class EventQueue(private val capacity: Int = 200, private val nowMs: () -> Long, private val file: File? = null) {
    private val queue = ArrayDeque<DeviceEvent>()
    var dropped = 0L
        private set

    init {
        if (file != null) load(file)
    }

    /** [type] is lower_case.dotted; [data] keeps up to 20 flat values (strings, numbers, booleans). */
    @Synchronized
    fun add(type: String, data: Map<String, Any?> = emptyMap()) {
        require(TYPE.matches(type)) { "event type must be lower_case.dotted: $type" }
        if (queue.size >= capacity) {
            queue.pollFirst()
            dropped++
        }
        queue.addLast(DeviceEvent(type, Instant.ofEpochMilli(nowMs()).toString(), flat(data)))
        persist()
    }

    @Synchronized
    fun take(max: Int = MAX_PER_HEARTBEAT): List<DeviceEvent> {
        val out = ArrayList<DeviceEvent>()
        while (out.size < max && queue.isNotEmpty()) out.add(queue.pollFirst())
        if (out.isNotEmpty()) persist()
        return out
    }

    private fun persist() {
        val target = file ?: return
        try {
            AtomicFiles.write(target, Json.write(ArrayList(queue)))
        } catch (e: Exception) {
            // The queue still holds the events; only their survival across a restart is lost.
        }
    }

    private fun load(source: File) {
        if (!source.isFile) return
        val text = try {
            AtomicFiles.read(source)
        } catch (e: Exception) {
            return
        }
        val parsed = Json.parseStrict(text)
        if (parsed == null || !parsed.isJsonArray) {
            source.renameTo(File(source.path + ".bad"))
            return
        }
        for (element in parsed.asJsonArray) {
            val event = readEvent(element) ?: continue
            if (queue.size >= capacity) {
                queue.pollFirst()
                dropped++
            }
            queue.addLast(event)
        }
    }

    @Synchronized
    fun size(): Int = queue.size

    companion object {
        const val MAX_PER_HEARTBEAT = 50
        const val MAX_KEYS = 20
        private val TYPE = Regex("^[a-z][a-z0-9_.]{0,63}$")

        private fun readEvent(element: JsonElement): DeviceEvent? {
            if (!element.isJsonObject) return null
            val o: JsonObject = element.asJsonObject
            val type = o.string("type") ?: return null
            val at = o.string("at") ?: return null
            if (!TYPE.matches(type)) return null
            val data = o.obj("data")?.let { d ->
                val out = LinkedHashMap<String, Any?>()
                for ((key, value) in d.entrySet()) {
                    if (out.size >= MAX_KEYS) break
                    out[key] = when {
                        value.isJsonNull -> null
                        !value.isJsonPrimitive -> value.toString()
                        value.asJsonPrimitive.isBoolean -> value.asBoolean
                        value.asJsonPrimitive.isNumber -> numberOf(value.asJsonPrimitive.asString)
                        else -> value.asString
                    }
                }
                out
            }
            return DeviceEvent(type, at, data)
        }

        private fun numberOf(text: String): Any = text.toLongOrNull() ?: text.toDouble()

        private fun flat(data: Map<String, Any?>): Map<String, Any?>? {
            if (data.isEmpty()) return null
            val out = LinkedHashMap<String, Any?>()
            for ((key, value) in data) {
                if (out.size >= MAX_KEYS) break
                if (key.length == 0 || key.length > 64) continue
                when (value) {
                    null, is Boolean, is Int, is Long, is Short, is Byte -> out[key] = value
                    is Double -> if (!value.isNaN() && !value.isInfinite()) out[key] = value
                    is Float -> if (!value.isNaN() && !value.isInfinite()) out[key] = value
                    else -> out[key] = value.toString().take(1000)
                }
            }
            return out
        }
    }
}

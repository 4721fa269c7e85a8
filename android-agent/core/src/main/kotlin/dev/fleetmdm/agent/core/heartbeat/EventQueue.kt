package dev.fleetmdm.agent.core.heartbeat

import dev.fleetmdm.agent.core.protocol.DeviceEvent
import java.time.Instant
import java.util.ArrayDeque

/**
 * Events (app crashes, relaunches, boots) waiting for the next heartbeat. Bounded: a device that
 * cannot report for long keeps the newest. Events taken into a heartbeat travel with it, into the
 * offline buffer too, so none is lost once taken.
 */
class EventQueue(private val capacity: Int = 200, private val nowMs: () -> Long) {
    private val queue = ArrayDeque<DeviceEvent>()
    var dropped = 0L
        private set

    /** [type] is lower_case.dotted; [data] keeps up to 20 flat values (strings, numbers, booleans). */
    @Synchronized
    fun add(type: String, data: Map<String, Any?> = emptyMap()) {
        require(TYPE.matches(type)) { "event type must be lower_case.dotted: $type" }
        if (queue.size >= capacity) {
            queue.pollFirst()
            dropped++
        }
        queue.addLast(DeviceEvent(type, Instant.ofEpochMilli(nowMs()).toString(), flat(data)))
    }

    @Synchronized
    fun take(max: Int = MAX_PER_HEARTBEAT): List<DeviceEvent> {
        val out = ArrayList<DeviceEvent>()
        while (out.size < max && queue.isNotEmpty()) out.add(queue.pollFirst())
        return out
    }

    @Synchronized
    fun size(): Int = queue.size

    companion object {
        const val MAX_PER_HEARTBEAT = 50
        const val MAX_KEYS = 20
        private val TYPE = Regex("^[a-z][a-z0-9_.]{0,63}$")

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

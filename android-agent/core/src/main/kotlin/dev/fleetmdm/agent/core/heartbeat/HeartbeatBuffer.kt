package dev.fleetmdm.agent.core.heartbeat

import dev.fleetmdm.agent.core.util.AtomicFiles
import java.io.File
import java.util.ArrayDeque

/**
 * Heartbeats (their JSON, as built) that could not be sent, oldest first, uploaded when the server
 * can be reached again. Bounded: when full the oldest is dropped, since newer state matters more.
 */
interface HeartbeatBuffer {
    fun add(json: String)

    fun oldest(): String?

    fun removeOldest()

    fun size(): Int

    /** How many heartbeats were dropped because the buffer was full. */
    fun dropped(): Long
}

class MemoryHeartbeatBuffer(private val capacity: Int = DEFAULT_CAPACITY) : HeartbeatBuffer {
    private val queue = ArrayDeque<String>()
    private var dropped = 0L

    @Synchronized
    override fun add(json: String) {
        while (queue.size >= capacity) {
            queue.pollFirst()
            dropped++
        }
        queue.addLast(json)
    }

    @Synchronized
    override fun oldest(): String? = queue.peekFirst()

    @Synchronized
    override fun removeOldest() {
        queue.pollFirst()
    }

    @Synchronized
    override fun size(): Int = queue.size

    @Synchronized
    override fun dropped(): Long = dropped

    companion object {
        /** Two days of heartbeats at the default 5-minute interval. */
        const val DEFAULT_CAPACITY = 576
    }
}

/**
 * One file per heartbeat in [dir], named by a zero-padded sequence number, so a reboot while
 * offline loses nothing and every add or remove is a single atomic file operation.
 */
class FileHeartbeatBuffer(private val dir: File, private val capacity: Int = MemoryHeartbeatBuffer.DEFAULT_CAPACITY) : HeartbeatBuffer {
    private val names = ArrayDeque<String>()
    private var next = 0L
    private var dropped = 0L

    init {
        if (!dir.isDirectory) dir.mkdirs()
        val existing = dir.listFiles { f -> f.isFile && NAME.matches(f.name) }?.map { it.name }?.sorted() ?: emptyList()
        for (name in existing) names.addLast(name)
        if (existing.isNotEmpty()) next = existing[existing.size - 1].substring(0, 19).toLong() + 1
    }

    @Synchronized
    override fun add(json: String) {
        while (names.size >= capacity) {
            File(dir, names.pollFirst()).delete()
            dropped++
        }
        val name = String.format("%019d.json", next++)
        AtomicFiles.write(File(dir, name), json)
        names.addLast(name)
    }

    @Synchronized
    override fun oldest(): String? {
        while (names.isNotEmpty()) {
            val file = File(dir, names.peekFirst())
            if (file.isFile) return AtomicFiles.read(file)
            names.pollFirst()
        }
        return null
    }

    @Synchronized
    override fun removeOldest() {
        val name = names.pollFirst() ?: return
        File(dir, name).delete()
    }

    @Synchronized
    override fun size(): Int = names.size

    @Synchronized
    override fun dropped(): Long = dropped

    companion object {
        private val NAME = Regex("^[0-9]{19}\\.json$")
    }
}

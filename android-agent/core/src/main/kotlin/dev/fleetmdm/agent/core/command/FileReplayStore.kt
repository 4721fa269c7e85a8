package dev.fleetmdm.agent.core.command

import com.google.gson.JsonArray
import com.google.gson.JsonPrimitive
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.util.AtomicFiles
import java.io.File

/**
 * A [BoundedReplayStore] that survives restarts: a REBOOT, or an agent killed between running a
 * command and reporting it, must not run the command again when it comes back in the next
 * heartbeat answer. Written atomically after every new cid.
 */
class FileReplayStore(private val file: File, private val store: BoundedReplayStore = BoundedReplayStore()) : ReplayStore {
    init {
        store.restore(load(file))
    }

    @Synchronized
    override fun remember(cid: String, validUntilSec: Long, nowSec: Long): RememberOutcome {
        val outcome = store.remember(cid, validUntilSec, nowSec)
        if (outcome == RememberOutcome.NEW) save()
        return outcome
    }

    override fun contains(cid: String): Boolean = store.contains(cid)

    private fun save() {
        val array = JsonArray()
        for (entry in store.snapshot()) {
            val pair = JsonArray()
            pair.add(JsonPrimitive(entry.cid))
            pair.add(JsonPrimitive(entry.validUntilSec))
            array.add(pair)
        }
        AtomicFiles.write(file, array.toString())
    }

    companion object {
        /** A missing or damaged file gives an empty store (the server's expiry still bounds replays). */
        fun load(file: File): List<ReplayEntry> {
            if (!file.isFile) return emptyList()
            val root = Json.parseStrict(AtomicFiles.read(file)) ?: return emptyList()
            if (!root.isJsonArray) return emptyList()
            val entries = ArrayList<ReplayEntry>()
            for (element in root.asJsonArray) {
                if (!element.isJsonArray || element.asJsonArray.size() != 2) continue
                val pair = element.asJsonArray
                val cid = pair.get(0)
                val until = pair.get(1)
                if (!cid.isJsonPrimitive || !cid.asJsonPrimitive.isString) continue
                if (!until.isJsonPrimitive || !until.asJsonPrimitive.isNumber) continue
                entries.add(ReplayEntry(cid.asString, until.asLong))
            }
            return entries
        }
    }
}

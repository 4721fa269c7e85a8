package dev.fleetmdm.agent.core.agent

import com.google.gson.JsonArray
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.protocol.CommandResult
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.protocol.wholeNumber
import dev.fleetmdm.agent.core.util.AtomicFiles
import java.io.File

/** A command whose outcome shows only later: a REBOOT (the next boot) or an update of the agent itself (the new agent). */
class PendingOutcome(
    val cid: String,
    val type: String,
    /** The device's boot identity when the command ran (Android: Settings.Global.BOOT_COUNT). */
    val bootId: String,
    val elapsedAtStartMs: Long,
    /** For an agent update: the versionCode the command installs. */
    val targetVersionCode: Long?
)

/**
 * Commands whose final result waits for a reboot or for the agent's own replacement, kept on disk
 * (atomic file) so the next process - after the reboot, or the updated agent - reports them:
 * REBOOT `succeeded` once the boot identity changed; an agent update `succeeded` once the running
 * agent has the target versionCode, `failed` when it still has not after a boot or [INSTALL_TIMEOUT_MS].
 */
class PendingOutcomes(
    private val file: File?,
    private val currentBootId: () -> String,
    private val clock: MonotonicClock,
    private val agentVersionCode: Long
) {
    private val entries = LinkedHashMap<String, PendingOutcome>()

    init {
        load()
    }

    @Synchronized
    fun begin(cid: String, type: String, targetVersionCode: Long? = null) {
        while (entries.size >= CAPACITY) entries.remove(entries.keys.iterator().next())
        entries[cid] = PendingOutcome(cid, type, currentBootId(), clock.elapsedMs(), targetVersionCode)
        save()
    }

    @Synchronized
    fun forget(cid: String) {
        if (entries.remove(cid) != null) save()
    }

    @Synchronized
    fun size(): Int = entries.size

    /** Reports every outcome that is known now and forgets it; the rest keep waiting. */
    fun resolve(reporter: ResultReporter): Int {
        val done = synchronized(this) {
            val out = ArrayList<Pair<String, CommandResult>>()
            for (p in entries.values) {
                val result = outcome(p) ?: continue
                out.add(Pair(p.cid, result))
            }
            for ((cid, _) in out) entries.remove(cid)
            if (out.isNotEmpty()) save()
            out
        }
        for ((cid, result) in done) reporter.report(cid, result)
        return done.size
    }

    private fun outcome(p: PendingOutcome): CommandResult? {
        val booted = currentBootId() != p.bootId
        val waited = clock.elapsedMs() - p.elapsedAtStartMs
        return when (p.type) {
            "REBOOT" -> when {
                booted -> CommandResult.succeeded("rebooted (the device booted again)")
                waited > REBOOT_TIMEOUT_MS -> CommandResult.failed("no reboot within ${REBOOT_TIMEOUT_MS / 60_000} minutes of DevicePolicyManager.reboot")
                else -> null
            }
            "INSTALL_APK" -> {
                val target = p.targetVersionCode ?: return CommandResult.failed("no target version recorded")
                when {
                    agentVersionCode == target -> CommandResult.succeeded("agent updated to versionCode $target")
                    agentVersionCode > target -> CommandResult.failed("the agent is at versionCode $agentVersionCode, not $target")
                    booted || waited > INSTALL_TIMEOUT_MS -> CommandResult.failed("the agent is still at versionCode $agentVersionCode after installing $target")
                    else -> null
                }
            }
            else -> CommandResult.failed("unknown pending type ${p.type}")
        }
    }

    private fun load() {
        val f = file ?: return
        if (!f.isFile) return
        val parsed = try {
            Json.parseStrict(AtomicFiles.read(f))
        } catch (e: Exception) {
            null
        }
        if (parsed == null || !parsed.isJsonArray) return
        for (element in parsed.asJsonArray) {
            if (!element.isJsonObject) continue
            val o = element.asJsonObject
            val cid = o.string("cid") ?: continue
            val type = o.string("type") ?: continue
            val boot = o.string("bootId") ?: continue
            val elapsed = o.wholeNumber("elapsedAtStartMs") ?: continue
            entries[cid] = PendingOutcome(cid, type, boot, elapsed, o.wholeNumber("targetVersionCode"))
        }
    }

    private fun save() {
        val f = file ?: return
        val array = JsonArray()
        for (p in entries.values) {
            val o = JsonObject()
            o.addProperty("cid", p.cid)
            o.addProperty("type", p.type)
            o.addProperty("bootId", p.bootId)
            o.addProperty("elapsedAtStartMs", p.elapsedAtStartMs)
            if (p.targetVersionCode != null) o.addProperty("targetVersionCode", p.targetVersionCode)
            array.add(o)
        }
        AtomicFiles.write(f, array.toString())
    }

    companion object {
        const val CAPACITY = 50
        const val REBOOT_TIMEOUT_MS = 10 * 60_000L
        const val INSTALL_TIMEOUT_MS = 15 * 60_000L
    }
}

package dev.fleetmdm.agent.core.agent

import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.protocol.CommandResult
import java.util.LinkedHashMap

/**
 * The agent's own result reporting when no durable reporter is wired in (the JVM, tests): a result
 * is posted at once; a final result that could not be delivered waits here and is posted again
 * after every successful heartbeat, until the server has it. The Android app uses WorkManager
 * instead, which also survives the process.
 */
class PendingResults(private val capacity: Int = 500) {
    private val pending = LinkedHashMap<String, CommandResult>()

    @Synchronized
    fun size(): Int = pending.size

    fun reporter(agent: Agent): ResultReporter = object : ResultReporter {
        override fun report(cid: String, result: CommandResult) {
            val outcome = agent.postResult(cid, result)
            if (outcome == PostOutcome.RETRY && result.isFinal) keep(cid, result)
        }
    }

    fun retry(agent: Agent) {
        for ((cid, result) in snapshot()) {
            when (agent.postResult(cid, result)) {
                PostOutcome.RETRY -> return
                PostOutcome.DONE, PostOutcome.DROP -> remove(cid)
            }
        }
    }

    @Synchronized
    private fun keep(cid: String, result: CommandResult) {
        if (pending.size >= capacity && !pending.containsKey(cid)) pending.remove(pending.keys.iterator().next())
        pending[cid] = result
    }

    @Synchronized
    private fun remove(cid: String) {
        pending.remove(cid)
    }

    @Synchronized
    private fun snapshot(): List<Pair<String, CommandResult>> = pending.entries.map { Pair(it.key, it.value) }
}

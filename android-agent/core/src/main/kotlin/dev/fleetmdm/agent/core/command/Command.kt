package dev.fleetmdm.agent.core.command

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.protocol.boolean
import dev.fleetmdm.agent.core.protocol.string
import dev.fleetmdm.agent.core.protocol.wholeNumber

/** A verified command, ready for its executor. */
class Command(val cid: String, val type: String, val params: Params, val issuedAtSec: Long, val expiresAtSec: Long)

/** Typed, forgiving reads of a command's params: null when a member is missing or of another type. */
class Params(val json: JsonObject) {
    fun has(name: String): Boolean = json.has(name)

    fun string(name: String): String? = json.string(name)

    fun wholeNumber(name: String): Long? = json.wholeNumber(name)

    fun boolean(name: String): Boolean? = json.boolean(name)
}

/**
 * What an executor did. [afterReport] runs once the final result has been handed to the reporter.
 * A [deferred] result has no final report yet: it is known only later (a REBOOT after the next
 * boot, an agent update when the new agent runs) and reported then from [dev.fleetmdm.agent.core.agent.PendingOutcomes].
 */
class ExecutionResult private constructor(
    val succeeded: Boolean,
    val output: String?,
    val error: String?,
    val afterReport: (() -> Unit)?,
    val deferred: Boolean
) {
    companion object {
        fun succeeded(output: String? = null, afterReport: (() -> Unit)? = null) = ExecutionResult(true, output, null, afterReport, false)

        fun failed(error: String) = ExecutionResult(false, null, error, null, false)

        fun deferred(note: String) = ExecutionResult(false, note, null, null, true)
    }
}

/** Runs one command type. Throwing is allowed: the dispatcher reports it as `failed`. */
interface CommandExecutor {
    fun execute(command: Command): ExecutionResult
}

/** An executor from a function (Kotlin 1.3 has no `fun interface`). */
fun executor(block: (Command) -> ExecutionResult): CommandExecutor = object : CommandExecutor {
    override fun execute(command: Command): ExecutionResult = block(command)
}

package dev.fleetmdm.agent.core.command

import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.protocol.CommandResult
import dev.fleetmdm.agent.core.protocol.Envelope
import java.util.concurrent.Executor

/** How an envelope reached the device. */
enum class Channel(val code: String) { HEARTBEAT("heartbeat"), PUSH("push") }

/**
 * Delivers a command's results to the server. A final result must get there eventually (retried
 * until the server has it); a `delivered` is a courtesy and may be tried once.
 */
interface ResultReporter {
    fun report(cid: String, result: CommandResult)
}

/**
 * Where envelopes enter the device, whatever carried them: verify, then run the command's executor
 * on [runner] and report `delivered` and the final result. Unknown types and refused envelopes that
 * name this device are reported `rejected` (except replays, which already have their result).
 */
class CommandDispatcher(
    private val verifier: EnvelopeVerifier,
    private val executors: Map<String, CommandExecutor>,
    private val reporter: ResultReporter,
    private val runner: Executor,
    private val nowMs: () -> Long,
    private val log: Logger
) {
    /** Verifies on the caller's thread (the replay store decides once); execution goes to [runner]. */
    fun receive(raw: Map<String, *>, channel: Channel): Verdict = receive(Envelope.fromMap(raw), channel)

    fun receive(envelope: Envelope?, channel: Channel): Verdict {
        val verdict = synchronized(this) { verifier.verify(envelope, nowMs() / 1000) }
        when (verdict) {
            is Verdict.Rejected -> rejected(verdict, envelope, channel)
            is Verdict.Accepted -> accepted(verdict, channel)
        }
        return verdict
    }

    /**
     * The server cancelled these commands (a heartbeat answer's `cancelled`): one not yet run is never
     * run - its cid goes into the replay store, so its envelope is refused whenever it arrives - and is
     * reported `cancelled`. One that already ran (or was refused) has its result already; nothing is
     * sent for it. Returns how many were newly cancelled.
     */
    fun cancel(cids: List<String>): Int {
        var count = 0
        for (cid in cids) {
            val outcome = synchronized(this) { verifier.forbid(cid, nowMs() / 1000) }
            if (outcome != RememberOutcome.NEW) continue
            count++
            log.info("command cancelled", "cid" to cid, "channel" to Channel.HEARTBEAT.code)
            reporter.report(cid, CommandResult.cancelled())
        }
        return count
    }

    private fun rejected(verdict: Verdict.Rejected, envelope: Envelope?, channel: Channel) {
        log.warn(
            "command refused",
            "reason" to verdict.reason.code, "cid" to (envelope?.cid), "type" to (envelope?.type), "channel" to channel.code
        )
        val cid = verdict.cid
        if (cid != null && verdict.reason != RejectReason.REPLAYED) {
            reporter.report(cid, CommandResult.rejected(verdict.reason.code))
        }
    }

    private fun accepted(verdict: Verdict.Accepted, channel: Channel) {
        val envelope = verdict.envelope
        if (envelope.type == CANCEL) {
            // a signed cancel (push): its cid is the cancelled command's, now in the replay store, so
            // the command's own envelope is refused as a replay whenever it comes
            log.info("command cancelled", "cid" to envelope.cid, "channel" to channel.code)
            reporter.report(envelope.cid, CommandResult.cancelled())
            return
        }
        val executor = executors[envelope.type]
        if (executor == null) {
            log.warn("unknown command type", "cid" to envelope.cid, "type" to envelope.type, "channel" to channel.code)
            reporter.report(envelope.cid, CommandResult.rejected("unknown command type ${envelope.type}"))
            return
        }
        val command = Command(envelope.cid, envelope.type, Params(verdict.params), verdict.issuedAtSec, verdict.expiresAtSec)
        runner.execute { run(executor, command, channel) }
    }

    companion object {
        /** The envelope type of a pushed cancel: `cid` names the cancelled command, `params` is "{}". */
        const val CANCEL = "CANCEL"
    }

    private fun run(executor: CommandExecutor, command: Command, channel: Channel) {
        log.info("command accepted", "cid" to command.cid, "type" to command.type, "channel" to channel.code)
        reporter.report(command.cid, CommandResult.delivered())
        val started = nowMs()
        val result = try {
            executor.execute(command)
        } catch (e: Exception) {
            ExecutionResult.failed("${e.javaClass.simpleName}: ${e.message ?: "no message"}")
        }
        if (result.deferred) {
            log.info("command result deferred", "cid" to command.cid, "type" to command.type, "note" to result.output, "ms" to (nowMs() - started))
            return
        }
        val report = if (result.succeeded) CommandResult.succeeded(result.output) else CommandResult.failed(result.error ?: "failed")
        log.info(
            "command finished",
            "cid" to command.cid, "type" to command.type, "status" to report.status, "ms" to (nowMs() - started), "error" to report.error
        )
        reporter.report(command.cid, report)
        val after = result.afterReport ?: return
        try {
            after()
        } catch (e: Exception) {
            log.error("command follow-up failed", e, "cid" to command.cid, "type" to command.type)
        }
    }
}

package dev.fleetmdm.agent

import android.content.Context
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import androidx.work.workDataOf
import dev.fleetmdm.agent.core.agent.PostOutcome
import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.protocol.CommandResult
import java.util.concurrent.TimeUnit

/**
 * Results go out at once; a final result that could not be delivered becomes WorkManager work with
 * exponential backoff and a network constraint, which survives the process and reboots - the
 * result of a REBOOT is usually delivered this way. `delivered` is a courtesy and tried once.
 */
class WorkResultReporter(private val context: Context, private val runtime: AgentRuntime, private val log: Logger) : ResultReporter {
    override fun report(cid: String, result: CommandResult) {
        val outcome = try {
            runtime.agent.postResult(cid, result)
        } catch (e: RuntimeException) {
            log.error("posting a result failed", e, "cid" to cid)
            PostOutcome.RETRY
        }
        if (outcome == PostOutcome.RETRY && result.isFinal) ResultWorker.enqueue(context, cid, result)
    }
}

class ResultWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    override fun doWork(): Result {
        val cid = inputData.getString(KEY_CID) ?: return Result.failure()
        val status = inputData.getString(KEY_STATUS) ?: return Result.failure()
        val result = CommandResult(status, inputData.getString(KEY_OUTPUT), inputData.getString(KEY_ERROR))
        return when (AgentRuntime.get(applicationContext).agent.postResult(cid, result)) {
            PostOutcome.DONE, PostOutcome.DROP -> Result.success()
            PostOutcome.RETRY -> Result.retry()
        }
    }

    companion object {
        private const val KEY_CID = "cid"
        private const val KEY_STATUS = "status"
        private const val KEY_OUTPUT = "output"
        private const val KEY_ERROR = "error"

        fun enqueue(context: Context, cid: String, result: CommandResult) {
            val request = OneTimeWorkRequestBuilder<ResultWorker>()
                .setInputData(workDataOf(KEY_CID to cid, KEY_STATUS to result.status, KEY_OUTPUT to result.output, KEY_ERROR to result.error))
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 30, TimeUnit.SECONDS)
                .build()
            // One report per command: a newer final result replaces one still waiting.
            WorkManager.getInstance(context).enqueueUniqueWork("result-$cid", ExistingWorkPolicy.REPLACE, request)
        }
    }
}

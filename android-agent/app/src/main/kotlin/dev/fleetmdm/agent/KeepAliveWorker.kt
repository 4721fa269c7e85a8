package dev.fleetmdm.agent

import android.content.Context
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import java.util.concurrent.TimeUnit

/** Every 15 minutes: starts the agent service again should the system have stopped it. */
class KeepAliveWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    override fun doWork(): Result {
        val runtime = AgentRuntime.get(applicationContext)
        if (runtime.agent.isEnrolled() && runtime.owner.isDeviceOwner()) {
            try {
                AgentService.start(applicationContext)
            } catch (e: IllegalStateException) {
                runtime.log.warn("could not restart the agent service", "error" to e.message)
            }
        }
        return Result.success()
    }

    companion object {
        fun schedule(context: Context) {
            val request = PeriodicWorkRequestBuilder<KeepAliveWorker>(15, TimeUnit.MINUTES).build()
            WorkManager.getInstance(context).enqueueUniquePeriodicWork("keep-alive", ExistingPeriodicWorkPolicy.KEEP, request)
        }
    }
}

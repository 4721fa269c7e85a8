package dev.fleetmdm.agent

import android.content.Context
import android.os.BaseBundle
import androidx.core.content.edit
import androidx.work.BackoffPolicy
import androidx.work.Constraints
import androidx.work.ExistingWorkPolicy
import androidx.work.NetworkType
import androidx.work.OneTimeWorkRequestBuilder
import androidx.work.WorkManager
import androidx.work.Worker
import androidx.work.WorkerParameters
import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.EnrollOutcome
import dev.fleetmdm.agent.core.command.StandardExecutors
import java.util.concurrent.TimeUnit

/**
 * Both enrollment paths end here: the ADB script's broadcast extras and QR provisioning's admin
 * extras bundle carry the same keys. The request is sealed to disk and run by [EnrollWorker] with
 * WorkManager, so a device whose network is not up yet enrolls as soon as it is.
 */
object Enrollment {
    const val EXTRA_SERVER_URL = "server_url"
    const val EXTRA_ENROLLMENT_TOKEN = "enrollment_token"
    const val EXTRA_KIOSK_PACKAGE = "kiosk_package"
    private val TOKEN = Regex("^mdmet_[A-Za-z0-9_-]{43}$")

    /** Reads the three keys from an Intent's extras or a PersistableBundle (both are BaseBundles). */
    fun request(context: Context, extras: BaseBundle?, source: String): Boolean {
        val runtime = AgentRuntime.get(context)
        val url = extras?.getString(EXTRA_SERVER_URL)?.trim()
        val token = extras?.getString(EXTRA_ENROLLMENT_TOKEN)?.trim()
        val kiosk = extras?.getString(EXTRA_KIOSK_PACKAGE)?.trim()?.ifEmpty { null }
        when {
            runtime.agent.isEnrolled() -> runtime.log.warn("enrollment ignored: already enrolled", "source" to source)
            !runtime.owner.isDeviceOwner() -> runtime.log.warn("enrollment ignored: the agent is not Device Owner", "source" to source)
            url == null || !Agent.isHttpUrl(url) -> runtime.log.error("enrollment ignored: server_url is not an http(s) URL", null, "source" to source)
            token == null || !TOKEN.matches(token) -> runtime.log.error("enrollment ignored: enrollment_token is not a token", null, "source" to source)
            kiosk != null && !StandardExecutors.isPackageName(kiosk) -> runtime.log.error("enrollment ignored: kiosk_package is not a package name", null, "source" to source)
            else -> {
                if (kiosk != null) runtime.settings.kioskPackage = kiosk
                save(context, url, token)
                runtime.log.info("enrollment requested", "source" to source, "server" to url)
                EnrollWorker.enqueue(context)
                return true
            }
        }
        return false
    }

    private fun prefs(context: Context) = context.getSharedPreferences("enrollment", Context.MODE_PRIVATE)

    private fun save(context: Context, url: String, token: String) {
        prefs(context).edit(commit = true) {
            putString("serverUrl", url)
            putString("token", SecretBox().seal(token))
        }
    }

    fun pending(context: Context): Pair<String, String>? {
        val prefs = prefs(context)
        val url = prefs.getString("serverUrl", null) ?: return null
        val token = prefs.getString("token", null)?.let { SecretBox().open(it) } ?: return null
        return Pair(url, token)
    }

    fun clear(context: Context) {
        prefs(context).edit(commit = true) { clear() }
    }
}

class EnrollWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    override fun doWork(): Result {
        val runtime = AgentRuntime.get(applicationContext)
        val (url, token) = Enrollment.pending(applicationContext) ?: return Result.success()
        return when (val outcome = runtime.agent.enroll(url, token)) {
            is EnrollOutcome.Enrolled -> {
                Enrollment.clear(applicationContext)
                runtime.owner.applyKioskPolicy(runtime.settings.kioskPackage)
                AgentService.start(applicationContext)
                Result.success()
            }
            is EnrollOutcome.Refused -> {
                // A used, revoked or expired token will not work later either: the operator needs a new one.
                runtime.log.error("enrollment refused", null, "code" to outcome.code, "message" to outcome.message)
                Enrollment.clear(applicationContext)
                Result.failure()
            }
            is EnrollOutcome.RetryLater -> Result.retry()
        }
    }

    companion object {
        fun enqueue(context: Context) {
            val request = OneTimeWorkRequestBuilder<EnrollWorker>()
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .setBackoffCriteria(BackoffPolicy.EXPONENTIAL, 10, TimeUnit.SECONDS)
                .build()
            WorkManager.getInstance(context).enqueueUniqueWork("enroll", ExistingWorkPolicy.REPLACE, request)
        }
    }
}

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
import dev.fleetmdm.agent.core.agent.EnrollOutcome
import dev.fleetmdm.agent.core.net.ServerUrlPolicy
import dev.fleetmdm.agent.core.security.EnrollDecision
import dev.fleetmdm.agent.core.security.EnrollExtras
import dev.fleetmdm.agent.core.security.EnrollGate
import dev.fleetmdm.agent.core.security.EnrollSource
import java.util.concurrent.TimeUnit

/**
 * Both enrollment paths end here: the ADB script's broadcast extras and QR provisioning's admin
 * extras bundle carry the same keys. Whether to accept them is the core's [EnrollGate]; an accepted
 * request is sealed to disk and run by [EnrollWorker] with WorkManager, so a device whose network
 * is not up yet enrolls as soon as it is.
 */
object Enrollment {
    const val EXTRA_SERVER_URL = "server_url"
    const val EXTRA_ENROLLMENT_TOKEN = "enrollment_token"
    const val EXTRA_KIOSK_PACKAGE = "kiosk_package"
    const val EXTRA_ALLOW_CLEARTEXT = "allow_cleartext"
    const val EXTRA_KIOSK_PERMISSIONS = "kiosk_permissions"

    /**
     * Reads the keys from an Intent's extras or a PersistableBundle (both are BaseBundles).
     * Returns null when accepted, else the refusal reason.
     */
    fun request(context: Context, extras: BaseBundle?, source: EnrollSource, senderUid: Int? = null): String? {
        val runtime = AgentRuntime.get(context)
        val read = EnrollExtras(
            extras?.getString(EXTRA_SERVER_URL),
            extras?.getString(EXTRA_ENROLLMENT_TOKEN),
            extras?.getString(EXTRA_KIOSK_PACKAGE),
            allowCleartext(extras),
            extras?.getString(EXTRA_KIOSK_PERMISSIONS)
        )
        val decision = EnrollGate.decide(
            source, senderUid, runtime.owner.isDeviceOwner(), runtime.agent.isEnrolled(), read, BuildConfig.ALLOW_CLEARTEXT
        )
        if (decision is EnrollDecision.Refuse) {
            runtime.log.error("enrollment refused", null, "source" to source.code, "reason" to decision.reason, "senderUid" to senderUid)
            return decision.reason
        }
        val accepted = decision as EnrollDecision.Accept
        if (accepted.kioskPackage != null) runtime.settings.kioskPackage = accepted.kioskPackage
        if (accepted.kioskPermissions.isNotEmpty()) runtime.setKioskPermissions(accepted.kioskPermissions)
        save(context, accepted.serverUrl, accepted.enrollmentToken, accepted.allowCleartext)
        runtime.log.info("enrollment requested", "source" to source.code, "server" to accepted.serverUrl, "cleartext" to accepted.allowCleartext)
        EnrollWorker.enqueue(context)
        return null
    }

    /** `--ez allow_cleartext true` (a boolean), or "true" as a string (a QR code's JSON may carry either). */
    private fun allowCleartext(extras: BaseBundle?): Boolean {
        if (extras == null || !extras.containsKey(EXTRA_ALLOW_CLEARTEXT)) return false
        @Suppress("DEPRECATION")
        val raw: Any? = extras.get(EXTRA_ALLOW_CLEARTEXT)
        return ServerUrlPolicy.extraAllows(raw)
    }

    private fun prefs(context: Context) = context.getSharedPreferences("enrollment", Context.MODE_PRIVATE)

    private fun save(context: Context, url: String, token: String, allowCleartext: Boolean) {
        prefs(context).edit(commit = true) {
            putString("serverUrl", url)
            putString("token", SecretBox().seal(token))
            putBoolean("allowCleartext", allowCleartext)
        }
    }

    class Pending(val serverUrl: String, val token: String, val allowCleartext: Boolean)

    fun pending(context: Context): Pending? {
        val prefs = prefs(context)
        val url = prefs.getString("serverUrl", null) ?: return null
        val token = prefs.getString("token", null)?.let { SecretBox().open(it) } ?: return null
        return Pending(url, token, prefs.getBoolean("allowCleartext", false))
    }

    fun clear(context: Context) {
        prefs(context).edit(commit = true) { clear() }
    }
}

class EnrollWorker(context: Context, params: WorkerParameters) : Worker(context, params) {
    override fun doWork(): Result {
        val runtime = AgentRuntime.get(applicationContext)
        val pending = Enrollment.pending(applicationContext) ?: return Result.success()
        return when (val outcome = runtime.agent.enroll(pending.serverUrl, pending.token, pending.allowCleartext)) {
            is EnrollOutcome.Enrolled -> {
                Enrollment.clear(applicationContext)
                runtime.applyKioskPolicy("enrolled")
                AgentService.start(applicationContext)
                showHome(runtime)
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

    /** The locked home screen at once, not at the next press of Home (a Device Owner may start activities from the background). */
    private fun showHome(runtime: AgentRuntime) {
        try {
            applicationContext.startActivity(
                android.content.Intent(applicationContext, HomeActivity::class.java).addFlags(android.content.Intent.FLAG_ACTIVITY_NEW_TASK)
            )
        } catch (e: RuntimeException) {
            runtime.log.warn("could not show the home screen after enrollment", "error" to e.message)
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

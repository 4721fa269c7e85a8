package dev.fleetmdm.agent.core.security

import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.net.ServerUrlPolicy

/** Where enrollment extras came from. */
enum class EnrollSource(val code: String) {
    /** QR/NFC provisioning: the admin extras bundle the system hands the Device Owner. */
    PROVISIONING("provisioning"),

    /**
     * `adb shell am broadcast` to EnrollReceiver. The receiver is declared with
     * `android:permission="android.permission.DUMP"`: the platform delivers only from senders
     * holding DUMP (signature|privileged|development) - the shell, root, the system - never from a
     * third-party app, which cannot be granted it without adb.
     */
    SHELL("adb")
}

/**
 * The enrollment extras, as read from the intent or the admin extras bundle. [kioskPermissions]:
 * the optional `kiosk_permissions` extra, runtime permissions to grant the kiosk app, comma-separated.
 */
class EnrollExtras(
    val serverUrl: String?,
    val enrollmentToken: String?,
    val kioskPackage: String?,
    val allowCleartext: Boolean,
    val kioskPermissions: String? = null
)

sealed class EnrollDecision {
    class Accept(
        val serverUrl: String,
        val enrollmentToken: String,
        val kioskPackage: String?,
        val allowCleartext: Boolean,
        val kioskPermissions: List<String> = emptyList()
    ) : EnrollDecision()

    class Refuse(val reason: String) : EnrollDecision()
}

/**
 * Who may hand the Device Owner a server to obey. An agent that is Device Owner but not enrolled
 * would follow any server it is pointed at - which could then install apps or wipe - so the extras
 * are accepted only from provisioning or the shell, only while the agent is Device Owner and not
 * enrolled, and only with a URL the [ServerUrlPolicy] allows.
 */
object EnrollGate {
    const val ROOT_UID = 0
    const val SYSTEM_UID = 1000
    const val SHELL_UID = 2000
    private val TOKEN = Regex("^mdmet_[A-Za-z0-9_-]{43}$")
    private val PERMISSION = Regex("^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)+$")

    /**
     * [senderUid]: the broadcaster's uid where the platform tells it (Android 14+
     * `BroadcastReceiver.getSentFromUid()`, when the sender shared its identity), else null - then
     * the receiver's permission is the check.
     */
    fun decide(
        source: EnrollSource,
        senderUid: Int?,
        isDeviceOwner: Boolean,
        isEnrolled: Boolean,
        extras: EnrollExtras,
        buildAllowsCleartext: Boolean
    ): EnrollDecision {
        if (source == EnrollSource.SHELL && senderUid != null && senderUid != SHELL_UID && senderUid != ROOT_UID && senderUid != SYSTEM_UID) {
            return EnrollDecision.Refuse("sender_not_shell")
        }
        if (isEnrolled) return EnrollDecision.Refuse("already_enrolled")
        if (!isDeviceOwner) return EnrollDecision.Refuse("not_device_owner")
        val url = extras.serverUrl?.trim()
        if (url.isNullOrEmpty()) return EnrollDecision.Refuse("server_url_missing")
        val urlProblem = ServerUrlPolicy.check(url, extras.allowCleartext || buildAllowsCleartext)
        if (urlProblem != null) return EnrollDecision.Refuse(urlProblem)
        val token = extras.enrollmentToken?.trim()
        if (token == null || !TOKEN.matches(token)) return EnrollDecision.Refuse("enrollment_token_invalid")
        val kiosk = extras.kioskPackage?.trim()?.let { if (it.isEmpty()) null else it }
        if (kiosk != null && !StandardExecutors.isPackageName(kiosk)) return EnrollDecision.Refuse("kiosk_package_invalid")
        val permissions = (extras.kioskPermissions ?: "").split(',').map { it.trim() }.filter { it.isNotEmpty() }
        if (permissions.size > 50 || permissions.any { !PERMISSION.matches(it) }) return EnrollDecision.Refuse("kiosk_permissions_invalid")
        return EnrollDecision.Accept(url, token, kiosk, extras.allowCleartext, permissions.distinct())
    }
}

/**
 * The kiosk app's frame reports. The receiver is behind the agent's REPORT_KIOSK_STATUS permission
 * (protectionLevel dangerous: only the Device Owner's grant gives it, and the agent grants it to the
 * kiosk app alone); a report also has to name the configured kiosk package, and where Android 14+
 * tells the sender's package it has to be that package.
 */
object KioskReportGate {
    fun accept(reportedPackage: String?, kioskPackage: String?, senderPackage: String?): Boolean {
        if (reportedPackage == null || kioskPackage == null || reportedPackage != kioskPackage) return false
        return senderPackage == null || senderPackage == kioskPackage
    }

    /** A frame time (elapsed realtime) from the future or before boot is not believable: count it as now. */
    fun frameTime(reportedElapsedMs: Long, nowElapsedMs: Long): Long =
        if (reportedElapsedMs in 0..nowElapsedMs) reportedElapsedMs else nowElapsedMs
}

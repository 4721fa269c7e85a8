package dev.fleetmdm.agent.core.net

import java.net.URI

/**
 * Which server URLs the agent enrolls with. `https://` always; `http://` only when cleartext was
 * explicitly allowed - by the build (`BuildConfig.ALLOW_CLEARTEXT`, from `fleetmdm.allowCleartext`)
 * or by the enrollment's own `allow_cleartext=true` extra (an emulator, a lab network). Without
 * that an http URL is refused at once with a reason, instead of being accepted and then failing
 * forever (Android blocks cleartext for apps targeting API 28+ unless the network security
 * config allows it; the agent's config allows it so that an explicit allowance works, and this
 * policy is what decides).
 */
object ServerUrlPolicy {
    /** Null when [url] may be used, else why not. */
    fun check(url: String, cleartextAllowed: Boolean): String? {
        val uri = try {
            URI(url)
        } catch (e: Exception) {
            return "invalid_server_url"
        }
        if (uri.host.isNullOrEmpty() || uri.rawUserInfo != null || uri.rawQuery != null || uri.rawFragment != null) {
            return "invalid_server_url"
        }
        return when (uri.scheme) {
            "https" -> null
            "http" -> if (cleartextAllowed) null else "cleartext_not_allowed"
            else -> "invalid_server_url"
        }
    }

    /** The `allow_cleartext` extra: only an explicit true (boolean or the string "true") allows it. */
    fun extraAllows(value: Any?): Boolean = value == true || (value is String && value.trim() == "true")
}

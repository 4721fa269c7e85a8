package dev.fleetmdm.agent.core.agent

import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.ApiResult
import dev.fleetmdm.agent.core.net.DeviceApi
import dev.fleetmdm.agent.core.protocol.Session

/**
 * Device sessions (docs/protocol.md, "Sessions"): one is opened with the device secret and renewed
 * a while before it expires; a route that answers 401 gets one new session and one retry. A session
 * refused with `invalid_credentials` means the device was removed: its credentials are cleared and
 * the agent waits to be enrolled again.
 */
class Sessions(private val credentials: CredentialStore, private val nowMs: () -> Long, private val log: Logger) {
    private var session: Session? = null
    private var renewAtMs = 0L

    @Synchronized
    fun reset() {
        session = null
    }

    fun <T> authorized(api: DeviceApi, call: (String) -> ApiResult<T>): ApiResult<T> {
        val first = token(api, null)
        if (first is ApiResult.Failed) return first
        val token = (first as ApiResult.Ok).value
        val result = call(token)
        if (result !is ApiResult.Failed || result.status != 401) return result
        log.info("device route answered 401, opening a new session", "code" to result.code)
        val second = token(api, token)
        if (second is ApiResult.Failed) return second
        return call((second as ApiResult.Ok).value)
    }

    /** A valid access token; [stale] is one the server just refused. */
    @Synchronized
    private fun token(api: DeviceApi, stale: String?): ApiResult<String> {
        val current = session
        val now = nowMs()
        if (current != null && current.accessToken != stale && now < renewAtMs) return ApiResult.Ok(current.accessToken)
        val creds = credentials.load() ?: return ApiResult.Failed(401, "not_enrolled", "the device is not enrolled", null)
        return when (val opened = api.openSession(creds.deviceId, creds.deviceSecret)) {
            is ApiResult.Ok -> {
                session = opened.value
                val lifetime = Math.max(0L, opened.value.expiresAtMs - now)
                renewAtMs = opened.value.expiresAtMs - Math.min(RENEW_EARLY_MS, lifetime / 10)
                ApiResult.Ok(opened.value.accessToken)
            }
            is ApiResult.Failed -> {
                session = null
                if (opened.status == 401 && opened.code == "invalid_credentials") {
                    log.error("the server no longer knows this device; waiting to be enrolled again", null, "deviceId" to creds.deviceId)
                    credentials.clear()
                }
                opened
            }
        }
    }

    companion object {
        /** Renew this long before expiry, at most a tenth of the session's lifetime. */
        const val RENEW_EARLY_MS = 300_000L
    }
}

package dev.fleetmdm.agent.core.agent

import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.ApiResult
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.net.DeviceApi
import dev.fleetmdm.agent.core.protocol.Session

/**
 * Device sessions (docs/protocol.md, "Sessions"): one is opened with the device secret and renewed
 * a while before it expires; a route that answers 401 gets one new session and one retry.
 *
 * A session refused with `invalid_credentials` does NOT make the device forget its identity: the
 * server may have been restored from an older backup, or be misconfigured for a while, and a
 * device that wiped its credentials could only come back by being enrolled again over USB. The
 * agent keeps them, records an `agent.auth_refused` event (and `agent.auth_restored` when a session
 * opens again), and tries again on a backoff ([refusedBackoff], on the monotonic [elapsedMs]) so a
 * fleet does not hammer the server's bcrypt. Only [Agent.retire] - the hook for a server-signed
 * retire command - forgets the identity.
 */
class Sessions(
    private val credentials: CredentialStore,
    private val nowMs: () -> Long,
    private val log: Logger,
    private val events: EventQueue? = null,
    private val elapsedMs: () -> Long = nowMs,
    private val refusedBackoff: Backoff = Backoff(60_000, 3_600_000, jitter = 0.1)
) {
    private var session: Session? = null
    private var renewAtMs = 0L
    private var refusals = 0
    private var refusedUntilElapsedMs = 0L

    /** Sessions refused with `invalid_credentials` in a row (0 when the last one opened). */
    @Synchronized
    fun refusals(): Int = refusals

    @Synchronized
    fun reset() {
        session = null
        refusals = 0
        refusedUntilElapsedMs = 0
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
        if (refusals > 0 && elapsedMs() < refusedUntilElapsedMs) {
            val waitSec = (refusedUntilElapsedMs - elapsedMs() + 999) / 1000
            return ApiResult.Failed(401, INVALID_CREDENTIALS, "the server refused this device's credentials; next try in $waitSec s", null)
        }
        return when (val opened = api.openSession(creds.deviceId, creds.deviceSecret)) {
            is ApiResult.Ok -> {
                if (refusals > 0) {
                    log.info("the server accepts this device again", "refusals" to refusals)
                    events?.add("agent.auth_restored", mapOf("refusals" to refusals))
                    refusals = 0
                }
                session = opened.value
                val lifetime = Math.max(0L, opened.value.expiresAtMs - now)
                renewAtMs = opened.value.expiresAtMs - Math.min(RENEW_EARLY_MS, lifetime / 10)
                ApiResult.Ok(opened.value.accessToken)
            }
            is ApiResult.Failed -> {
                session = null
                if (opened.status == 401 && opened.code == INVALID_CREDENTIALS) {
                    refusals++
                    val delay = refusedBackoff.delayMs(refusals)
                    refusedUntilElapsedMs = elapsedMs() + delay
                    log.error(
                        "the server refused this device's credentials; keeping them and trying again", null,
                        "deviceId" to creds.deviceId, "refusals" to refusals, "retryInMs" to delay
                    )
                    if (refusals == 1) events?.add("agent.auth_refused", mapOf("deviceId" to creds.deviceId))
                }
                opened
            }
        }
    }

    companion object {
        /** Renew this long before expiry, at most a tenth of the session's lifetime. */
        const val RENEW_EARLY_MS = 300_000L
        const val INVALID_CREDENTIALS = "invalid_credentials"
    }
}

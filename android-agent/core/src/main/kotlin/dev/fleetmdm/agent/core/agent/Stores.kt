package dev.fleetmdm.agent.core.agent

/** The device's identity from enrollment. Secret: the Android app keeps it in Keystore-encrypted storage. */
class Credentials(val serverUrl: String, val deviceId: String, val deviceSecret: String, val hmacKey: String)

interface CredentialStore {
    fun load(): Credentials?

    fun save(credentials: Credentials)

    fun clear()
}

/** The agent's non-secret settings. */
interface SettingsStore {
    /** The interval the server's heartbeat answers ask for (`nextHeartbeatSec`). */
    var serverIntervalSec: Int

    /** Set by a SET_CONFIG command; wins over [serverIntervalSec] while set. */
    var configuredIntervalSec: Int?

    var kioskPackage: String?

    /** The FCM token the server last acknowledged, so a changed token is sent once. */
    var reportedFcmToken: String?
}

class MemoryCredentialStore : CredentialStore {
    @Volatile private var credentials: Credentials? = null

    override fun load(): Credentials? = credentials

    override fun save(credentials: Credentials) {
        this.credentials = credentials
    }

    override fun clear() {
        credentials = null
    }
}

class MemorySettingsStore(kioskPackage: String? = null) : SettingsStore {
    @Volatile override var serverIntervalSec: Int = DEFAULT_INTERVAL_SEC
    @Volatile override var configuredIntervalSec: Int? = null
    @Volatile override var kioskPackage: String? = kioskPackage
    @Volatile override var reportedFcmToken: String? = null

    companion object {
        const val DEFAULT_INTERVAL_SEC = 300
    }
}

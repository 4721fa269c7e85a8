package dev.fleetmdm.agent

import android.content.Context
import android.content.SharedPreferences
import androidx.core.content.edit
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.agent.CredentialStore
import dev.fleetmdm.agent.core.agent.Credentials
import dev.fleetmdm.agent.core.agent.MemorySettingsStore
import dev.fleetmdm.agent.core.agent.SettingsStore
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.protocol.string

/** The enrollment identity, sealed with a Keystore key. */
class KeystoreCredentialStore(context: Context) : CredentialStore {
    private val prefs: SharedPreferences = context.getSharedPreferences("credentials", Context.MODE_PRIVATE)
    private val box = SecretBox()
    @Volatile private var cached: Credentials? = null

    @Synchronized
    override fun load(): Credentials? {
        cached?.let { return it }
        val sealed = prefs.getString(KEY, null) ?: return null
        val json = box.open(sealed)?.let { Json.parseObject(it) } ?: return null
        val creds = Credentials(
            json.string("serverUrl") ?: return null, json.string("deviceId") ?: return null,
            json.string("deviceSecret") ?: return null, json.string("hmacKey") ?: return null
        )
        cached = creds
        return creds
    }

    @Synchronized
    override fun save(credentials: Credentials) {
        val json = JsonObject().apply {
            addProperty("serverUrl", credentials.serverUrl)
            addProperty("deviceId", credentials.deviceId)
            addProperty("deviceSecret", credentials.deviceSecret)
            addProperty("hmacKey", credentials.hmacKey)
        }
        // commit, not apply: the server has used up the token, so these must be on disk now.
        prefs.edit(commit = true) { putString(KEY, box.seal(json.toString())) }
        cached = credentials
    }

    @Synchronized
    override fun clear() {
        prefs.edit(commit = true) { remove(KEY) }
        cached = null
    }

    private companion object {
        const val KEY = "sealed"
    }
}

/** Settings that are not secret, in plain SharedPreferences. */
class PrefsSettingsStore(context: Context) : SettingsStore {
    private val prefs: SharedPreferences = context.getSharedPreferences("settings", Context.MODE_PRIVATE)

    override var serverIntervalSec: Int
        get() = prefs.getInt("serverIntervalSec", MemorySettingsStore.DEFAULT_INTERVAL_SEC)
        set(value) = prefs.edit { putInt("serverIntervalSec", value) }

    override var configuredIntervalSec: Int?
        get() = if (prefs.contains("configuredIntervalSec")) prefs.getInt("configuredIntervalSec", 0) else null
        set(value) = prefs.edit { if (value == null) remove("configuredIntervalSec") else putInt("configuredIntervalSec", value) }

    override var kioskPackage: String?
        get() = prefs.getString("kioskPackage", null)
        set(value) = prefs.edit { putString("kioskPackage", value) }

    override var reportedFcmToken: String?
        get() = prefs.getString("reportedFcmToken", null)
        set(value) = prefs.edit { putString("reportedFcmToken", value) }
}

package dev.fleetmdm.agent.core.protocol

import com.google.gson.JsonElement

/**
 * A signed command as the device receives it: an FCM data message or an element of a heartbeat
 * answer's `commands`. Every field is a string (docs/protocol.md, "Envelope").
 */
data class Envelope(
    val v: String,
    val cid: String,
    val did: String,
    val type: String,
    val params: String,
    val iat: String,
    val exp: String,
    val sig: String
) {
    fun toMap(): Map<String, String> =
        linkedMapOf("v" to v, "cid" to cid, "did" to did, "type" to type, "params" to params, "iat" to iat, "exp" to exp, "sig" to sig)

    companion object {
        val FIELDS = listOf("v", "cid", "did", "type", "params", "iat", "exp", "sig")

        /** FCM data messages are limited to 4 KB in all; a longer field did not come from the server. */
        const val MAX_FIELD_LENGTH = 8192

        /**
         * Copies only the eight known fields, each a non-empty string of bounded length; null when
         * any is missing or of another type (the verifier's `malformed`).
         */
        fun fromMap(raw: Map<String, *>): Envelope? {
            val values = ArrayList<String>(FIELDS.size)
            for (field in FIELDS) {
                val value = raw[field] as? String ?: return null
                if (value.length == 0 || value.length > MAX_FIELD_LENGTH) return null
                values.add(value)
            }
            return Envelope(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7])
        }

        /** The same from a JSON object whose members are JSON strings (a heartbeat answer's element). */
        fun fromJson(element: JsonElement?): Envelope? {
            if (element == null || !element.isJsonObject) return null
            val obj = element.asJsonObject
            val raw = HashMap<String, String>()
            for (field in FIELDS) raw[field] = obj.string(field) ?: return null
            return fromMap(raw)
        }
    }
}

package dev.fleetmdm.agent.core.protocol

import com.google.gson.Gson
import com.google.gson.GsonBuilder
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import com.google.gson.JsonPrimitive
import com.google.gson.stream.JsonReader
import com.google.gson.stream.JsonToken
import java.io.StringReader
import java.math.BigDecimal

/**
 * JSON for the device protocol. Requests are written with Gson from the model classes (absent
 * optional fields are left out, never sent as null); everything the server sends is parsed strictly
 * and read field by field, because the agent trusts nothing it receives.
 */
object Json {
    val gson: Gson = GsonBuilder().disableHtmlEscaping().create()

    fun write(value: Any): String = gson.toJson(value)

    /**
     * Exactly one JSON value, as RFC 8259 (and `JSON.parse` on the server) has it: no comments,
     * unquoted names, single quotes or trailing text. Null when [text] is anything else.
     */
    fun parseStrict(text: String): JsonElement? {
        return try {
            // A JsonReader is strict unless told otherwise; Gson.fromJson would make it lenient.
            val reader = JsonReader(StringReader(text))
            val element = gson.getAdapter(JsonElement::class.java).read(reader)
            if (reader.peek() == JsonToken.END_DOCUMENT) element else null
        } catch (e: Exception) {
            null
        }
    }

    fun parseObject(text: String): JsonObject? {
        val element = parseStrict(text) ?: return null
        return if (element.isJsonObject) element.asJsonObject else null
    }
}

/** A string member, or null when missing or of another type. */
fun JsonObject.string(name: String): String? {
    val value = get(name)
    if (value == null || !value.isJsonPrimitive) return null
    val primitive = value.asJsonPrimitive
    return if (primitive.isString) primitive.asString else null
}

/** A whole-number member that fits a Long (`231`, `231.0`), or null. */
fun JsonObject.wholeNumber(name: String): Long? {
    val value = get(name)
    if (value == null || !value.isJsonPrimitive) return null
    return wholeNumberOf(value.asJsonPrimitive)
}

fun JsonObject.boolean(name: String): Boolean? {
    val value = get(name)
    if (value == null || !value.isJsonPrimitive) return null
    val primitive = value.asJsonPrimitive
    return if (primitive.isBoolean) primitive.asBoolean else null
}

fun JsonObject.obj(name: String): JsonObject? {
    val value = get(name)
    return if (value != null && value.isJsonObject) value.asJsonObject else null
}

internal fun wholeNumberOf(primitive: JsonPrimitive): Long? {
    if (!primitive.isNumber) return null
    return try {
        val decimal: BigDecimal = primitive.asBigDecimal
        if (decimal.signum() != 0 && decimal.stripTrailingZeros().scale() > 0) null else decimal.toBigIntegerExact().longValueExact()
    } catch (e: ArithmeticException) {
        null
    } catch (e: NumberFormatException) {
        null
    }
}

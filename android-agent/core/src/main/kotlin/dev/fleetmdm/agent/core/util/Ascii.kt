package dev.fleetmdm.agent.core.util

/** ASCII case changes that build on Kotlin 1.3 and current Kotlin (no toLowerCase()/lowercase()). */
object Ascii {
    fun lower(s: String): String = s.map { if (it in 'A'..'Z') 'a' + (it - 'A') else it }.joinToString("")
}

package dev.fleetmdm.agent.core.net

/**
 * Exponential backoff with jitter: attempt n waits base * multiplier^(n-1), capped at [maxMs], then
 * spread by ±[jitter] (a fraction) so a fleet that lost its server at once does not come back at
 * once. [random] gives values in [0, 1); tests pass a fixed one.
 */
class Backoff(
    private val baseMs: Long,
    private val maxMs: Long,
    private val multiplier: Double = 2.0,
    private val jitter: Double = 0.25,
    private val random: () -> Double = { Math.random() }
) {
    init {
        require(baseMs > 0 && maxMs >= baseMs) { "need 0 < baseMs <= maxMs" }
        require(multiplier >= 1.0) { "multiplier must be >= 1" }
        require(jitter >= 0.0 && jitter <= 1.0) { "jitter must be within 0..1" }
    }

    /** The wait before retry number [attempt] (1 for the first retry). */
    fun delayMs(attempt: Int): Long {
        val exponent = if (attempt < 1) 0 else attempt - 1
        val raw = Math.min(maxMs.toDouble(), baseMs * Math.pow(multiplier, exponent.toDouble()))
        val factor = 1.0 - jitter + 2.0 * jitter * random()
        return Math.min(maxMs.toDouble(), Math.max(0.0, raw * factor)).toLong()
    }

    /** Honours a server's Retry-After (seconds) when it asks for longer than the schedule. */
    fun delayMs(attempt: Int, retryAfterSec: Long?): Long {
        val scheduled = delayMs(attempt)
        if (retryAfterSec == null || retryAfterSec <= 0) return scheduled
        return Math.max(scheduled, Math.min(maxMs, retryAfterSec * 1000))
    }
}

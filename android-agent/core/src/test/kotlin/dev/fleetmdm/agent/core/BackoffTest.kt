package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.net.Backoff
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class BackoffTest {
    @Test
    fun `without jitter the delay doubles up to the cap`() {
        val b = Backoff(1000, 30_000, jitter = 0.0, random = { 0.9 })
        assertEquals(listOf(1000L, 2000L, 4000L, 8000L, 16_000L, 30_000L, 30_000L), (1..7).map { b.delayMs(it) })
    }

    @Test
    fun `jitter spreads the delay both ways around the schedule`() {
        assertEquals(750L, Backoff(1000, 60_000, jitter = 0.25, random = { 0.0 }).delayMs(1))
        assertEquals(1000L, Backoff(1000, 60_000, jitter = 0.25, random = { 0.5 }).delayMs(1))
        assertEquals(4000L, Backoff(1000, 60_000, jitter = 0.25, random = { 0.5 }).delayMs(3))
        assertEquals(4999L, Backoff(1000, 60_000, jitter = 0.25, random = { 0.9999 }).delayMs(3))
    }

    @Test
    fun `jittered delays never exceed the cap and huge attempts do not overflow`() {
        val b = Backoff(1000, 10_000, jitter = 1.0, random = { 0.999 })
        assertEquals(10_000L, b.delayMs(4))
        assertEquals(10_000L, b.delayMs(10_000))
        assertEquals(10_000L, b.delayMs(Int.MAX_VALUE))
    }

    @Test
    fun `a real random source stays within the jitter band`() {
        val b = Backoff(1000, 60_000, jitter = 0.25)
        for (i in 1..200) {
            val d = b.delayMs(2)
            assertTrue(d in 1500L..2500L, "delay $d")
        }
    }

    @Test
    fun `Retry-After wins when it asks for longer, within the cap`() {
        val b = Backoff(1000, 20_000, jitter = 0.0)
        assertEquals(7000L, b.delayMs(1, 7))
        assertEquals(4000L, b.delayMs(3, 1))
        assertEquals(20_000L, b.delayMs(1, 3600))
        assertEquals(1000L, b.delayMs(1, null))
    }

    @Test
    fun `nonsense settings are refused`() {
        assertThrows(IllegalArgumentException::class.java) { Backoff(0, 10) }
        assertThrows(IllegalArgumentException::class.java) { Backoff(100, 10) }
        assertThrows(IllegalArgumentException::class.java) { Backoff(10, 100, jitter = 1.5) }
    }
}

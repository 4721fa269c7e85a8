package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.command.BoundedReplayStore
import dev.fleetmdm.agent.core.command.FileReplayStore
import dev.fleetmdm.agent.core.command.RememberOutcome
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File

class ReplayStoreTest {
    @TempDir
    lateinit var dir: File

    @Test
    fun `expired cids are forgotten, but never the newest keepAtLeast`() {
        val store = BoundedReplayStore(keepAtLeast = 3, capacity = 5)
        for (i in 1..3) assertEquals(RememberOutcome.NEW, store.remember("old$i", 100, 50))
        // At now=200 all three are expired; adding a fourth drops the oldest only (keeps the newest 2 + new).
        assertEquals(RememberOutcome.NEW, store.remember("new1", 1000, 200))
        assertFalse(store.contains("old1"))
        assertTrue(store.contains("old2"))
        assertTrue(store.contains("old3"))
        assertEquals(3, store.size())
        assertEquals(RememberOutcome.SEEN, store.remember("old3", 1000, 200))
    }

    @Test
    fun `valid cids are never evicted, the store refuses instead`() {
        val store = BoundedReplayStore(keepAtLeast = 1, capacity = 2)
        assertEquals(RememberOutcome.NEW, store.remember("a", 1000, 0))
        assertEquals(RememberOutcome.NEW, store.remember("b", 1000, 0))
        assertEquals(RememberOutcome.FULL, store.remember("c", 1000, 0))
        assertTrue(store.contains("a"))
        // Once they expire there is room again.
        assertEquals(RememberOutcome.NEW, store.remember("c", 3000, 2000))
        assertFalse(store.contains("a"))
    }

    @Test
    fun `the file store remembers across restarts`() {
        val file = File(dir, "replay.json")
        val first = FileReplayStore(file)
        assertEquals(RememberOutcome.NEW, first.remember("cid-1", 5000, 0))
        assertEquals(RememberOutcome.NEW, first.remember("cid-2", 6000, 0))
        val second = FileReplayStore(file)
        assertEquals(RememberOutcome.SEEN, second.remember("cid-1", 5000, 10))
        assertEquals(RememberOutcome.SEEN, second.remember("cid-2", 6000, 10))
        assertEquals(RememberOutcome.NEW, second.remember("cid-3", 6000, 10))
        assertEquals(listOf("cid-1", "cid-2", "cid-3"), FileReplayStore.load(file).map { it.cid })
    }

    @Test
    fun `a damaged file gives an empty store instead of a crash`() {
        val file = File(dir, "replay.json")
        file.writeText("[[\"a\",1],garbage")
        val store = FileReplayStore(file)
        assertFalse(store.contains("a"))
        assertEquals(RememberOutcome.NEW, store.remember("a", 10, 0))
    }
}

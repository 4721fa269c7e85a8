package dev.fleetmdm.agent.core.command

enum class RememberOutcome { NEW, SEEN, FULL }

/** The cids this device has accepted, so one command never runs twice. */
interface ReplayStore {
    /** Records [cid] unless already known; [validUntilSec] is the envelope's exp plus clock skew. */
    fun remember(cid: String, validUntilSec: Long, nowSec: Long): RememberOutcome

    fun contains(cid: String): Boolean
}

class ReplayEntry(val cid: String, val validUntilSec: Long)

/**
 * In memory, bounded, oldest first (a LinkedHashMap in insertion order).
 *
 * A cid is kept until its envelope could no longer pass the expiry check, and the newest
 * [keepAtLeast] cids are kept even past that (a clock that jumps back would make an old envelope
 * look valid again). Older entries past their validity are evicted first when the store grows. At
 * [capacity] entries that are all still valid the store refuses new ones (fails closed) rather than
 * forget a cid that could still be replayed.
 */
class BoundedReplayStore(
    private val keepAtLeast: Int = 1000,
    private val capacity: Int = 10000
) : ReplayStore {
    private val validUntil = LinkedHashMap<String, Long>()

    init {
        require(keepAtLeast in 1..capacity) { "need 1 <= keepAtLeast <= capacity" }
    }

    @Synchronized
    override fun remember(cid: String, validUntilSec: Long, nowSec: Long): RememberOutcome {
        if (validUntil.containsKey(cid)) return RememberOutcome.SEEN
        if (validUntil.size >= keepAtLeast) forgetExpired(nowSec)
        if (validUntil.size >= capacity) return RememberOutcome.FULL
        validUntil[cid] = validUntilSec
        return RememberOutcome.NEW
    }

    @Synchronized
    override fun contains(cid: String): Boolean = validUntil.containsKey(cid)

    @Synchronized
    fun size(): Int = validUntil.size

    /** Oldest first, for persisting. */
    @Synchronized
    fun snapshot(): List<ReplayEntry> = validUntil.entries.map { ReplayEntry(it.key, it.value) }

    @Synchronized
    fun restore(entries: List<ReplayEntry>) {
        validUntil.clear()
        for (entry in entries.takeLast(capacity)) validUntil[entry.cid] = entry.validUntilSec
    }

    /** Among all but the newest keepAtLeast - 1 entries, drops those past their validity. */
    private fun forgetExpired(nowSec: Long) {
        var candidates = validUntil.size - (keepAtLeast - 1)
        val it = validUntil.entries.iterator()
        while (it.hasNext() && candidates-- > 0) {
            if (it.next().value < nowSec) it.remove()
        }
    }
}

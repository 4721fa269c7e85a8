package dev.fleetmdm.agent.core.agent

import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.ReentrantLock

enum class Wake { TIMEOUT, BEAT, FLUSH, TICK }

/**
 * How the heartbeat loop is woken before its time: a PING command, an enrollment or a changed
 * interval asks for a heartbeat now; the network coming back asks for the offline buffer to go.
 */
class Wakeup {
    private val lock = ReentrantLock()
    private val signal = lock.newCondition()
    private var beat = false
    private var flush = false
    private var tick = false

    fun requestBeat() {
        lock.lock()
        try {
            beat = true
            signal.signalAll()
        } finally {
            lock.unlock()
        }
    }

    fun requestFlush() {
        lock.lock()
        try {
            flush = true
            signal.signalAll()
        } finally {
            lock.unlock()
        }
    }

    /** The heartbeat alarm fired: look at the schedule again (the wait may have slept through its time). */
    fun requestTick() {
        lock.lock()
        try {
            tick = true
            signal.signalAll()
        } finally {
            lock.unlock()
        }
    }

    /** Forgets a pending heartbeat request: the heartbeat about to be sent answers it. */
    fun clearBeat() {
        lock.lock()
        try {
            beat = false
        } finally {
            lock.unlock()
        }
    }

    /** Waits up to [ms] or until a request; a heartbeat request wins over a flush request. */
    fun await(ms: Long): Wake {
        lock.lock()
        try {
            var remainingNs = TimeUnit.MILLISECONDS.toNanos(Math.max(0L, ms))
            while (!beat && !flush && !tick && remainingNs > 0) remainingNs = signal.awaitNanos(remainingNs)
            val wake = if (beat) Wake.BEAT else if (flush) Wake.FLUSH else if (tick) Wake.TICK else Wake.TIMEOUT
            beat = false
            flush = false
            tick = false
            return wake
        } finally {
            lock.unlock()
        }
    }
}

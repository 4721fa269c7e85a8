package dev.fleetmdm.agent

import android.app.AlarmManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.PowerManager
import android.os.SystemClock
import dev.fleetmdm.agent.core.agent.AlarmKind
import dev.fleetmdm.agent.core.agent.AlarmPlan
import dev.fleetmdm.agent.core.agent.AlarmPort
import dev.fleetmdm.agent.core.agent.MonotonicClock
import dev.fleetmdm.agent.core.agent.WakeLock

/** `SystemClock.elapsedRealtime()`: counts through deep sleep, never jumps with the wall clock. */
object ElapsedRealtime : MonotonicClock {
    override fun elapsedMs(): Long = SystemClock.elapsedRealtime()
}

/**
 * The heartbeat loop's alarm: ELAPSED_REALTIME_WAKEUP, exact and allowed while idle when the agent
 * may set exact alarms (Android < 12 always; 12+ with SCHEDULE_EXACT_ALARM, which Android 14 no
 * longer pre-grants: `appops set dev.fleetmdm.agent SCHEDULE_EXACT_ALARM allow` from the
 * provisioning script), else the inexact while-idle kind. Both fire in Doze.
 */
class AndroidAlarms(private val context: Context) : AlarmPort {
    private val alarms: AlarmManager = context.getSystemService(AlarmManager::class.java)

    override fun exactAllowed(): Boolean {
        if (Build.VERSION.SDK_INT >= 31) return alarms.canScheduleExactAlarms()
        return true
    }

    override fun set(plan: AlarmPlan) {
        val operation = pendingIntent(context)
        if (plan.kind == AlarmKind.EXACT_WHILE_IDLE && exactAllowed()) {
            try {
                alarms.setExactAndAllowWhileIdle(AlarmManager.ELAPSED_REALTIME_WAKEUP, plan.triggerAtElapsedMs, operation)
                return
            } catch (e: SecurityException) {
                // The exact-alarm permission was revoked between the check and the call.
            }
        }
        alarms.setAndAllowWhileIdle(AlarmManager.ELAPSED_REALTIME_WAKEUP, plan.triggerAtElapsedMs, operation)
    }

    override fun cancel() {
        alarms.cancel(pendingIntent(context))
    }

    companion object {
        fun pendingIntent(context: Context): PendingIntent = PendingIntent.getBroadcast(
            context, 0, Intent(context, HeartbeatAlarmReceiver::class.java).setAction(HeartbeatAlarmReceiver.ACTION),
            PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT
        )
    }
}

/** A partial wakelock per loop turn, released when the turn ends (or at the timeout, whichever first). */
class AndroidWakeLock(context: Context) : WakeLock {
    private val power: PowerManager = context.getSystemService(PowerManager::class.java)

    override fun <T> holding(timeoutMs: Long, block: () -> T): T {
        val lock = power.newWakeLock(PowerManager.PARTIAL_WAKE_LOCK, "FleetMdmAgent:heartbeat")
        lock.setReferenceCounted(false)
        lock.acquire(timeoutMs)
        try {
            return block()
        } finally {
            if (lock.isHeld) lock.release()
        }
    }
}

/**
 * The heartbeat alarm fired. The alarm manager keeps the CPU awake only during onReceive, so a
 * short wakelock bridges until the loop thread has woken and taken its own for the turn.
 */
class HeartbeatAlarmReceiver : BroadcastReceiver() {
    override fun onReceive(context: Context, intent: Intent) {
        if (intent.action != ACTION) return
        val runtime = AgentRuntime.get(context)
        val bridge = context.getSystemService(PowerManager::class.java)
            .newWakeLock(PowerManager.PARTIAL_WAKE_LOCK, "FleetMdmAgent:alarm")
        bridge.acquire(BRIDGE_MS)
        if (!runtime.agent.isEnrolled()) return
        try {
            AgentService.start(context)
        } catch (e: RuntimeException) {
            runtime.log.warn("could not start the agent service from the alarm", "error" to e.message)
        }
        runtime.agent.wakeup.requestTick()
    }

    companion object {
        const val ACTION = "dev.fleetmdm.agent.action.HEARTBEAT_ALARM"
        private const val BRIDGE_MS = 10_000L
    }
}

package dev.fleetmdm.agent

import android.app.Notification
import android.app.PendingIntent
import android.app.Service
import android.content.Context
import android.content.Intent
import android.content.pm.ServiceInfo
import android.net.ConnectivityManager
import android.net.Network
import android.os.Build
import android.os.IBinder
import androidx.core.app.NotificationCompat
import androidx.core.app.ServiceCompat
import androidx.core.content.ContextCompat
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit

/**
 * The foreground service that keeps the agent alive: the heartbeat loop on its own thread (the
 * server's interval, 5 minutes by default, below WorkManager's 15-minute floor; woken by an alarm
 * that fires in Doze), the kiosk watchdog every few seconds, the kiosk policy every 10 minutes, and
 * a network callback that uploads buffered heartbeats when the network returns.
 */
class AgentService : Service() {
    private lateinit var runtime: AgentRuntime
    private var watchdog: ScheduledExecutorService? = null
    private val network = object : ConnectivityManager.NetworkCallback() {
        override fun onAvailable(network: Network) {
            runtime.agent.wakeup.requestFlush()
        }
    }

    override fun onCreate() {
        super.onCreate()
        runtime = AgentRuntime.get(this)
    }

    override fun onStartCommand(intent: Intent?, flags: Int, startId: Int): Int {
        try {
            val type = if (Build.VERSION.SDK_INT >= 34) ServiceInfo.FOREGROUND_SERVICE_TYPE_SYSTEM_EXEMPTED else 0
            ServiceCompat.startForeground(this, NOTIFICATION_ID, notification(), type)
        } catch (e: RuntimeException) {
            // systemExempted needs the agent to be Device Owner; without it there is nothing to manage.
            runtime.log.error("cannot run in the foreground", e)
            stopSelf()
            return START_NOT_STICKY
        }
        runtime.startLoop()
        if (watchdog == null) {
            getSystemService(ConnectivityManager::class.java).registerDefaultNetworkCallback(network)
            watchdog = Executors.newSingleThreadScheduledExecutor { r -> Thread(r, "agent-watchdog") }.also {
                it.execute { prepare() }
                it.scheduleWithFixedDelay({ checkKiosk() }, WATCHDOG_PERIOD_SEC, WATCHDOG_PERIOD_SEC, TimeUnit.SECONDS)
                // The policy again every 10 minutes: idempotent, and it catches a kiosk app installed since.
                it.scheduleWithFixedDelay({ reapply() }, POLICY_PERIOD_MIN, POLICY_PERIOD_MIN, TimeUnit.MINUTES)
            }
        }
        return START_STICKY
    }

    /** Once per service start, off the main thread: own permissions, the kiosk policy, and outcomes that waited for this process. */
    private fun prepare() {
        try {
            runtime.owner.grantOwnPermissions()
            runtime.applyKioskPolicy("service_start")
            runtime.agent.start()
        } catch (e: RuntimeException) {
            runtime.log.error("agent start-up step failed", e)
        }
    }

    private fun reapply() {
        try {
            runtime.applyKioskPolicy("periodic")
        } catch (e: RuntimeException) {
            runtime.log.error("re-applying the kiosk policy failed", e)
        }
    }

    private fun checkKiosk() {
        try {
            runtime.endMaintenanceIfDue()
            if (runtime.agent.isEnrolled() && !runtime.inMaintenance()) runtime.watchdog.check(runtime.settings.kioskPackage)
        } catch (e: RuntimeException) {
            runtime.log.error("kiosk watchdog check failed", e)
        }
    }

    override fun onDestroy() {
        watchdog?.shutdownNow()
        watchdog = null
        try {
            getSystemService(ConnectivityManager::class.java).unregisterNetworkCallback(network)
        } catch (e: IllegalArgumentException) {
            // never registered
        }
        runtime.stopLoop()
        super.onDestroy()
    }

    override fun onBind(intent: Intent?): IBinder? = null

    private fun notification(): Notification {
        val server = runtime.credentials.load()?.serverUrl
        val text = if (server != null) getString(R.string.notification_enrolled, server) else getString(R.string.notification_waiting)
        val open = PendingIntent.getActivity(
            this, 0, Intent(this, HomeActivity::class.java), PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT
        )
        return NotificationCompat.Builder(this, CHANNEL_ID)
            .setSmallIcon(R.drawable.ic_stat_agent)
            .setContentTitle(getString(R.string.notification_title))
            .setContentText(text)
            .setOngoing(true)
            .setContentIntent(open)
            .setForegroundServiceBehavior(NotificationCompat.FOREGROUND_SERVICE_IMMEDIATE)
            .build()
    }

    companion object {
        const val CHANNEL_ID = "agent"
        private const val NOTIFICATION_ID = 1
        private const val WATCHDOG_PERIOD_SEC = 5L
        private const val POLICY_PERIOD_MIN = 10L

        fun start(context: Context) {
            ContextCompat.startForegroundService(context, Intent(context, AgentService::class.java))
        }
    }
}

package dev.fleetmdm.agent

import android.content.Context
import android.os.Build
import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentLoop
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.command.FileReplayStore
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.FileHeartbeatBuffer
import dev.fleetmdm.agent.core.kiosk.KioskWatchdog
import dev.fleetmdm.agent.core.log.Level
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.net.UrlConnectionHttpClient
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import java.io.File
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * The one place the app wires the core together: stores, HTTP, executors over the Android device
 * ports, the command thread, the heartbeat loop and the kiosk watchdog. One per process.
 */
class AgentRuntime private constructor(val context: Context) {
    val log: Logger = Logger(AndroidLogSink(File(context.filesDir, "logs")), minLevel = if (BuildConfig.DEBUG) Level.DEBUG else Level.INFO)
        .with("agentVersion" to BuildConfig.VERSION_NAME)
    val settings = PrefsSettingsStore(context)
    val credentials = KeystoreCredentialStore(context)
    val http = UrlConnectionHttpClient()
    val events = EventQueue(nowMs = { System.currentTimeMillis() })
    val owner = DeviceOwner(context)
    private val commandThread: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "agent-commands") }
    val kioskProbe = AndroidKioskProbe(context)

    val agent: Agent = Agent(
        AgentParts(
            agentVersion = BuildConfig.VERSION_NAME,
            deviceInfo = { deviceInfo() },
            credentials = credentials,
            settings = settings,
            http = http,
            telemetry = AndroidTelemetry(context, settings, kioskProbe),
            buffer = FileHeartbeatBuffer(File(context.noBackupFilesDir, "heartbeats")),
            events = events,
            replayStore = FileReplayStore(File(context.noBackupFilesDir, "replay.json")),
            executors = { control ->
                StandardExecutors(
                    AndroidDevicePower(context, owner, log),
                    AndroidKioskApps(context, owner, log),
                    AndroidApkInstaller(context, log),
                    http,
                    KioskAwareControl(control, owner, settings),
                    File(context.noBackupFilesDir, "downloads")
                ).all()
            },
            commandRunner = commandThread,
            reporter = WorkResultReporter(context, this, log),
            nowMs = { System.currentTimeMillis() },
            log = log
        )
    )

    val watchdog = KioskWatchdog(
        kioskProbe, AndroidKioskApps(context, owner, log), events,
        Backoff(5_000, 300_000), { System.currentTimeMillis() }, log
    )

    @Volatile private var loop: AgentLoop? = null
    private var loopThread: Thread? = null

    @Synchronized
    fun startLoop() {
        if (loopThread?.isAlive == true) return
        val created = AgentLoop(agent, Backoff(5_000, 300_000), { System.currentTimeMillis() }, { Math.random() }, log)
        loop = created
        loopThread = Thread({ created.run() }, "agent-heartbeat").apply { start() }
    }

    @Synchronized
    fun stopLoop() {
        loop?.stop()
        loop = null
        loopThread = null
    }

    fun onFcmToken(token: String) {
        agent.fcmToken = token
        if (token != settings.reportedFcmToken) agent.heartbeatNow()
    }

    private fun deviceInfo(): DeviceInfo {
        val serial = try {
            // Readable by the Device Owner (Build.getSerial needs READ_PHONE_STATE otherwise).
            if (owner.isDeviceOwner()) Build.getSerial() else null
        } catch (e: SecurityException) {
            null
        }
        return DeviceInfo(
            Build.MODEL.take(100), Build.MANUFACTURER.take(100), Build.VERSION.RELEASE.take(32), Build.VERSION.SDK_INT,
            serial?.takeIf { it.isNotEmpty() && it != Build.UNKNOWN }?.take(100), BuildConfig.VERSION_NAME
        )
    }

    companion object {
        @Volatile private var instance: AgentRuntime? = null

        fun get(context: Context): AgentRuntime =
            instance ?: synchronized(this) { instance ?: AgentRuntime(context.applicationContext).also { instance = it } }
    }
}

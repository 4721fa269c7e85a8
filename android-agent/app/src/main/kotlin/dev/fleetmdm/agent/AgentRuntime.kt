package dev.fleetmdm.agent

import android.content.Context
import android.content.Intent
import android.os.Build
import android.os.SystemClock
import android.provider.Settings
import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.agent.Agent
import dev.fleetmdm.agent.core.agent.AgentLoop
import dev.fleetmdm.agent.core.agent.AgentParts
import dev.fleetmdm.agent.core.agent.PendingOutcomes
import dev.fleetmdm.agent.core.command.Command
import dev.fleetmdm.agent.core.command.FileReplayStore
import dev.fleetmdm.agent.core.command.Params
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.heartbeat.EventQueue
import dev.fleetmdm.agent.core.heartbeat.FileHeartbeatBuffer
import dev.fleetmdm.agent.core.kiosk.KioskPolicy
import dev.fleetmdm.agent.core.kiosk.KioskPolicyPlanner
import dev.fleetmdm.agent.core.kiosk.KioskWatchdog
import dev.fleetmdm.agent.core.log.Level
import dev.fleetmdm.agent.core.log.Logger
import dev.fleetmdm.agent.core.net.Backoff
import dev.fleetmdm.agent.core.net.UrlConnectionHttpClient
import dev.fleetmdm.agent.core.policy.PolicyPort
import dev.fleetmdm.agent.core.policy.PolicyStateStore
import dev.fleetmdm.agent.core.protocol.DeviceInfo
import dev.fleetmdm.agent.core.protocol.Json
import dev.fleetmdm.agent.core.util.AtomicFiles
import java.io.File
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * The one place the app wires the core together: stores, HTTP, executors over the Android device
 * ports, the command thread, the heartbeat loop (elapsed realtime, alarms, wakelock), the kiosk
 * policy and watchdog. One per process.
 */
class AgentRuntime private constructor(val context: Context) {
    val log: Logger = Logger(AndroidLogSink(File(context.filesDir, "logs")), minLevel = if (BuildConfig.DEBUG) Level.DEBUG else Level.INFO)
        .with("agentVersion" to BuildConfig.VERSION_NAME)
    val settings = PrefsSettingsStore(context)
    val credentials = KeystoreCredentialStore(context)
    val http = UrlConnectionHttpClient()
    /** Kept on disk, so events (a crash loop, a boot) survive until a heartbeat carries them. */
    val events = EventQueue(nowMs = { System.currentTimeMillis() }, file = File(context.noBackupFilesDir, "events.json"))
    val owner = DeviceOwner(context)
    private val commandThread: ExecutorService = Executors.newSingleThreadExecutor { r -> Thread(r, "agent-commands") }
    val kioskProbe = AndroidKioskProbe(context)
    private val kioskApps = AndroidKioskApps(context, owner, log)
    val pendingOutcomes = PendingOutcomes(
        File(context.noBackupFilesDir, "pending-outcomes.json"), { bootId() }, ElapsedRealtime, BuildConfig.VERSION_CODE.toLong()
    )
    @Volatile private var maintenanceUntilElapsedMs = 0L

    val agent: Agent = Agent(
        AgentParts(
            agentVersion = BuildConfig.VERSION_NAME,
            agentVersionCode = BuildConfig.VERSION_CODE.toLong(),
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
                    kioskApps,
                    AndroidApkInstaller(context, log),
                    http,
                    KioskAwareControl(control, this, settings),
                    File(context.noBackupFilesDir, "downloads"),
                    context.packageName,
                    pendingOutcomes
                ).all()
            },
            commandRunner = commandThread,
            reporter = WorkResultReporter(context, this, log),
            nowMs = { System.currentTimeMillis() },
            log = log,
            elapsedMs = { SystemClock.elapsedRealtime() },
            buildAllowsCleartext = BuildConfig.ALLOW_CLEARTEXT,
            pendingOutcomes = pendingOutcomes,
            policyPort = ServerPolicyPort(),
            policyState = PolicyStateStore(File(context.noBackupFilesDir, "policy-state.json"))
        )
    )

    /**
     * The server's policy (protocol v2), applied by the core's PolicySync after a heartbeat: each item
     * through [AndroidPolicyPort] (DevicePolicyManager), made per item so it sees the current kiosk
     * package. Runs on the heartbeat thread, after `agent` is built.
     */
    private inner class ServerPolicyPort : PolicyPort {
        override val sdkInt: Int = Build.VERSION.SDK_INT

        override fun apply(item: String, value: JsonElement) {
            AndroidPolicyPort(owner, settings.kioskPackage, { installForPolicy(it) }, { agent.setHeartbeatIntervalSec(it) })
                .apply(item, value)
        }
    }

    /**
     * A policy's `kioskApp` or `agentRelease` (`{releaseId, packageName, versionCode, versionName, url,
     * sha256, signerSha256}`, the INSTALL_APK params): installed with the INSTALL_APK executor's checks
     * (already installed: nothing to do). The kiosk app then becomes the kiosk package. The agent's own
     * update ends this process; the new agent applies the document again and finds it installed.
     */
    private fun installForPolicy(release: JsonObject) {
        val control = KioskAwareControl(agent, this, settings)
        val install = StandardExecutors(
            AndroidDevicePower(context, owner, log),
            kioskApps,
            AndroidApkInstaller(context, log),
            http,
            control,
            File(context.noBackupFilesDir, "policy-downloads"),
            context.packageName
        ).all().getValue("INSTALL_APK")
        val nowSec = System.currentTimeMillis() / 1000
        val releaseId = release.get("releaseId")?.takeIf { it.isJsonPrimitive }?.asString ?: "release"
        val result = install.execute(Command("policy-$releaseId", "INSTALL_APK", Params(release), nowSec, nowSec + 3600))
        if (!result.succeeded) throw IllegalStateException(result.error ?: result.output ?: "install failed")
        val packageName = release.get("packageName")?.takeIf { it.isJsonPrimitive }?.asString
        if (packageName != null && packageName != context.packageName && packageName != settings.kioskPackage) {
            control.setKioskPackage(packageName)
        }
    }

    val watchdog = KioskWatchdog(
        kioskProbe, kioskApps, events, Backoff(5_000, 300_000), { SystemClock.elapsedRealtime() }, log,
        restartFrozenAfterMs = policy().restartFrozenAfterSec * 1000L
    )

    @Volatile private var loop: AgentLoop? = null
    private var loopThread: Thread? = null

    /**
     * The kiosk policy: the core's safe defaults, overridden by `no_backup/kiosk-policy.json` (the `kiosk`
     * object of a policy document) when present - where the server's desired-state policy will land.
     */
    fun policy(): KioskPolicy {
        val file = File(context.noBackupFilesDir, "kiosk-policy.json")
        if (!file.isFile) return KioskPolicy.DEFAULT
        return try {
            KioskPolicy.fromJson(Json.parseObject(AtomicFiles.read(file)))
        } catch (e: Exception) {
            log.warn("kiosk policy file unreadable; using the defaults", "error" to e.message)
            KioskPolicy.DEFAULT
        }
    }

    /** The enrollment's `kiosk_permissions`: written into the policy override file (its other members are kept). */
    @Synchronized
    fun setKioskPermissions(permissions: List<String>) {
        val file = File(context.noBackupFilesDir, "kiosk-policy.json")
        val json = (if (file.isFile) try { Json.parseObject(AtomicFiles.read(file)) } catch (e: Exception) { null } else null) ?: JsonObject()
        val list = JsonArray()
        for (p in permissions) list.add(p)
        json.add("kioskPermissions", list)
        AtomicFiles.write(file, json.toString())
    }

    /** Applies the kiosk policy (idempotent) and records how it went as a `policy.applied` event when something did not apply. */
    @Synchronized
    fun applyKioskPolicy(reason: String) {
        val results = try {
            owner.applyKioskPolicy(policy(), settings.kioskPackage, inMaintenance())
        } catch (e: RuntimeException) {
            log.error("applying the kiosk policy failed", e)
            return
        }
        if (results.isEmpty()) return
        val summary = KioskPolicyPlanner.summary(results)
        log.info("kiosk policy applied", "reason" to reason, "summary" to summary.toString())
        val signature = summary.toString()
        if (signature != lastPolicySummary) {
            lastPolicySummary = signature
            events.add("policy.applied", LinkedHashMap<String, Any?>(summary).apply { put("reason", reason) })
        }
    }

    private var lastPolicySummary: String? = null

    fun inMaintenance(): Boolean = SystemClock.elapsedRealtime() < maintenanceUntilElapsedMs

    @Volatile private var maintenanceActive = false

    /** Called every watchdog tick: when a maintenance window has just run out, the lock comes back. */
    fun endMaintenanceIfDue() {
        val now = inMaintenance()
        val ended = maintenanceActive && !now
        maintenanceActive = now
        if (!ended) return
        log.info("kiosk maintenance over; locking again")
        applyKioskPolicy("maintenance_over")
        showHome("maintenance_over")
    }

    /** Lifts the kiosk lock for [minutes] (0 ends it); the operator's way out over USB. */
    fun setMaintenance(minutes: Int) {
        maintenanceUntilElapsedMs = if (minutes <= 0) 0 else SystemClock.elapsedRealtime() + minutes * 60_000L
        maintenanceActive = minutes > 0
        events.add("kiosk.maintenance", mapOf("minutes" to minutes))
        log.warn("kiosk maintenance", "minutes" to minutes)
        applyKioskPolicy("maintenance")
        if (minutes <= 0) showHome("maintenance_over")
    }

    private fun showHome(reason: String) {
        try {
            context.startActivity(Intent(context, HomeActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK))
        } catch (e: RuntimeException) {
            log.warn("could not show the home screen", "reason" to reason, "error" to e.message)
        }
    }

    @Synchronized
    fun startLoop() {
        if (loopThread?.isAlive == true) return
        val created = AgentLoop(
            agent, Backoff(5_000, 300_000), ElapsedRealtime, { Math.random() }, log, AndroidAlarms(context), AndroidWakeLock(context)
        )
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

    /** Changes with every boot: Settings.Global.BOOT_COUNT, or the boot's wall time to the minute where that is missing. */
    private fun bootId(): String {
        val count = Settings.Global.getInt(context.contentResolver, Settings.Global.BOOT_COUNT, -1)
        if (count >= 0) return "count-$count"
        return "at-" + (System.currentTimeMillis() - SystemClock.elapsedRealtime()) / 60_000
    }

    private fun deviceInfo(): DeviceInfo {
        val serial = try {
            // A Device Owner holding READ_PHONE_STATE (it grants it to itself) may read the serial.
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

package dev.fleetmdm.agent

import android.app.ActivityManager
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.content.pm.PackageManager
import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import android.os.BatteryManager
import android.os.Build
import android.os.Environment
import android.os.StatFs
import android.os.SystemClock
import dev.fleetmdm.agent.core.agent.SettingsStore
import dev.fleetmdm.agent.core.heartbeat.AppSnapshot
import dev.fleetmdm.agent.core.heartbeat.DeviceSnapshot
import dev.fleetmdm.agent.core.heartbeat.Telemetry
import dev.fleetmdm.agent.core.kiosk.KioskState
import java.net.Inet4Address

/** Reads one heartbeat's worth of device state; the core brings the values within the protocol's bounds. */
class AndroidTelemetry(
    private val context: Context,
    private val settings: SettingsStore,
    private val kiosk: AndroidKioskProbe
) : Telemetry {

    override fun snapshot(): DeviceSnapshot {
        // The sticky battery broadcast, read without registering a receiver (a protected system
        // broadcast, so no export flag is needed).
        val battery = context.registerReceiver(null, IntentFilter(Intent.ACTION_BATTERY_CHANGED))
        val level = battery?.getIntExtra(BatteryManager.EXTRA_LEVEL, -1) ?: -1
        val scale = battery?.getIntExtra(BatteryManager.EXTRA_SCALE, 100) ?: 100
        val plugged = battery?.getIntExtra(BatteryManager.EXTRA_PLUGGED, 0) ?: 0
        val tenths = battery?.getIntExtra(BatteryManager.EXTRA_TEMPERATURE, Int.MIN_VALUE) ?: Int.MIN_VALUE
        val memory = ActivityManager.MemoryInfo().also { context.getSystemService(ActivityManager::class.java).getMemoryInfo(it) }
        val stat = StatFs(Environment.getDataDirectory().path)
        val network = network()
        return DeviceSnapshot(
            batteryLevel = if (level >= 0 && scale > 0) Math.round(level * 100f / scale) else 0,
            charging = plugged != 0,
            temperatureC = if (tenths == Int.MIN_VALUE) null else tenths / 10.0,
            memAvailBytes = memory.availMem,
            memTotalBytes = memory.totalMem,
            storageFreeBytes = stat.availableBytes,
            storageTotalBytes = stat.totalBytes,
            networkType = network.type,
            rssi = network.rssi,
            ip = network.ip,
            app = app(),
            uptimeSec = SystemClock.elapsedRealtime() / 1000
        )
    }

    private class NetworkInfo(val type: String?, val rssi: Int?, val ip: String?)

    private fun network(): NetworkInfo {
        val cm = context.getSystemService(ConnectivityManager::class.java)
        val active = cm.activeNetwork ?: return NetworkInfo("none", null, null)
        val caps = cm.getNetworkCapabilities(active)
        val type = when {
            caps == null -> "unknown"
            caps.hasTransport(NetworkCapabilities.TRANSPORT_ETHERNET) -> "ethernet"
            caps.hasTransport(NetworkCapabilities.TRANSPORT_WIFI) -> "wifi"
            caps.hasTransport(NetworkCapabilities.TRANSPORT_CELLULAR) -> "cellular"
            else -> "other"
        }
        val rssi = if (caps != null && Build.VERSION.SDK_INT >= 29) {
            caps.signalStrength.takeIf { it != NetworkCapabilities.SIGNAL_STRENGTH_UNSPECIFIED }
        } else null
        val ip = cm.getLinkProperties(active)?.linkAddresses?.map { it.address }?.firstOrNull { it is Inet4Address }?.hostAddress
        return NetworkInfo(type, rssi, ip)
    }

    private fun app(): AppSnapshot {
        // With no kiosk app set, the agent (its home screen) is the device's app.
        val pkg = settings.kioskPackage ?: return AppSnapshot(context.packageName, true, true, BuildConfig.VERSION_NAME, BuildConfig.VERSION_CODE.toLong(), null)
        val state: KioskState = kiosk.state(pkg)
        var versionName: String? = null
        var versionCode: Long? = null
        try {
            val info = context.packageManager.getPackageInfo(pkg, 0)
            versionName = info.versionName
            versionCode = if (Build.VERSION.SDK_INT >= 28) info.longVersionCode else @Suppress("DEPRECATION") info.versionCode.toLong()
        } catch (e: PackageManager.NameNotFoundException) {
            // Not installed: running and foreground are false, the watchdog reports app.missing.
        }
        return AppSnapshot(pkg, state.running, state.foreground, versionName, versionCode, state.lastFrameAgeMs)
    }
}

package dev.fleetmdm.agent.core.kiosk

import com.google.gson.JsonObject
import dev.fleetmdm.agent.core.protocol.boolean
import dev.fleetmdm.agent.core.protocol.obj
import dev.fleetmdm.agent.core.protocol.wholeNumber
import dev.fleetmdm.agent.core.util.Ascii

/** Android's user restriction keys (the values of the `UserManager.DISALLOW_*` constants). */
object UserRestrictions {
    const val SAFE_BOOT = "no_safe_boot"
    const val FACTORY_RESET = "no_factory_reset"
    const val USB_FILE_TRANSFER = "no_usb_file_transfer"
    const val ADD_USER = "no_add_user"
    const val INSTALL_UNKNOWN_SOURCES = "no_install_unknown_sources"
    const val CONFIG_WIFI = "no_config_wifi"
    const val ADJUST_VOLUME = "no_adjust_volume"
    const val DEBUGGING_FEATURES = "no_debugging_features"

    /** The restrictions this policy manages (sets or clears); others are left as they are. */
    val MANAGED = listOf(SAFE_BOOT, FACTORY_RESET, USB_FILE_TRANSFER, ADD_USER, INSTALL_UNKNOWN_SOURCES, CONFIG_WIFI, ADJUST_VOLUME, DEBUGGING_FEATURES)
}

/** A daily maintenance window for system updates, in minutes after local midnight (may wrap past midnight). */
class UpdateWindow(val startMinutes: Int, val endMinutes: Int) {
    init {
        require(startMinutes in 0..1439 && endMinutes in 0..1439 && startMinutes != endMinutes) { "window minutes must be 0-1439 and differ" }
    }

    override fun equals(other: Any?): Boolean = other is UpdateWindow && other.startMinutes == startMinutes && other.endMinutes == endMinutes

    override fun hashCode(): Int = startMinutes * 1440 + endMinutes
}

/**
 * The kiosk's device policy, declarative: what the agent keeps applied while it is Device Owner.
 * [DEFAULT] holds the safe defaults used until the server's desired-state policy exists;
 * [fromJson] reads such a policy's `kiosk` object over them (unknown or ill-typed members keep the
 * default), so a later server-side policy overrides field by field.
 */
class KioskPolicy(
    /** The agent's home screen runs in lock task too, so the device is locked even when the kiosk app is not in front. */
    val lockTask: Boolean = true,
    val keyguardDisabled: Boolean = true,
    val statusBarDisabled: Boolean = true,
    /** Restriction key -> set (true) or cleared (false). */
    val restrictions: Map<String, Boolean> = DEFAULT_RESTRICTIONS,
    /** Null: the platform's automatic updates (the device may reboot any time). */
    val updateWindow: UpdateWindow? = UpdateWindow(120, 240),
    /** Runtime permissions granted to the kiosk app, so no permission dialog shows in the kiosk. */
    val kioskPermissions: List<String> = emptyList(),
    /** Force-restart a frozen kiosk app (no frame report) after this long; 0 only reports it. */
    val restartFrozenAfterSec: Int = 120
) {
    companion object {
        val DEFAULT_RESTRICTIONS: Map<String, Boolean> = linkedMapOf(
            UserRestrictions.SAFE_BOOT to true,
            UserRestrictions.FACTORY_RESET to true,
            UserRestrictions.USB_FILE_TRANSFER to true,
            UserRestrictions.ADD_USER to true,
            UserRestrictions.INSTALL_UNKNOWN_SOURCES to true,
            // Optional: a site may need to join another Wi-Fi or use the volume keys.
            UserRestrictions.CONFIG_WIFI to false,
            UserRestrictions.ADJUST_VOLUME to false,
            // Left off so an operator can still reach the device over USB (see the README's kiosk lock).
            UserRestrictions.DEBUGGING_FEATURES to false
        )

        val DEFAULT = KioskPolicy()

        private val PERMISSION = Regex("^[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)+$")

        /** The `kiosk` object of a policy document; members absent or of the wrong type keep the defaults. */
        fun fromJson(json: JsonObject?): KioskPolicy {
            if (json == null) return DEFAULT
            val d = DEFAULT
            val restrictions = LinkedHashMap(d.restrictions)
            json.obj("restrictions")?.let { r ->
                for (key in UserRestrictions.MANAGED) r.boolean(key)?.let { restrictions[key] = it }
            }
            var window = d.updateWindow
            if (json.has("updateWindow")) {
                val w = json.obj("updateWindow")
                val start = w?.wholeNumber("startMinutes")
                val end = w?.wholeNumber("endMinutes")
                window = when {
                    json.get("updateWindow").isJsonNull -> null
                    start != null && end != null && start in 0..1439 && end in 0..1439 && start != end -> UpdateWindow(start.toInt(), end.toInt())
                    else -> d.updateWindow
                }
            }
            val permissions = ArrayList<String>()
            val list = json.get("kioskPermissions")
            if (list != null && list.isJsonArray) {
                for (p in list.asJsonArray) {
                    if (p.isJsonPrimitive && p.asJsonPrimitive.isString && PERMISSION.matches(p.asString) && p.asString.length <= 200) permissions.add(p.asString)
                }
            }
            val restart = json.wholeNumber("restartFrozenAfterSec")
            return KioskPolicy(
                lockTask = json.boolean("lockTask") ?: d.lockTask,
                keyguardDisabled = json.boolean("keyguardDisabled") ?: d.keyguardDisabled,
                statusBarDisabled = json.boolean("statusBarDisabled") ?: d.statusBarDisabled,
                restrictions = restrictions,
                updateWindow = window,
                kioskPermissions = if (list != null && list.isJsonArray) permissions else d.kioskPermissions,
                restartFrozenAfterSec = if (restart != null && restart in 0..86_400) restart.toInt() else d.restartFrozenAfterSec
            )
        }
    }
}

/** One thing to apply through DevicePolicyManager; [minSdk] is where the platform has it. */
class PolicyItem(val kind: Kind, val key: String, val value: String?, val minSdk: Int) {
    enum class Kind { LOCK_TASK_PACKAGES, LOCK_TASK_FEATURES, HOME_ACTIVITY, KEYGUARD_DISABLED, STATUS_BAR_DISABLED, USER_RESTRICTION, SYSTEM_UPDATE_POLICY, PERMISSION_GRANT }

    val id: String get() = if (kind == Kind.USER_RESTRICTION || kind == Kind.PERMISSION_GRANT) "${Ascii.lower(kind.name)}:$key" else Ascii.lower(kind.name)

    override fun toString(): String = "$id=$value"
}

/** How applying one [PolicyItem] went. */
class Compliance(val item: PolicyItem, val status: Status, val reason: String?) {
    enum class Status { APPLIED, FAILED, UNSUPPORTED }
}

/**
 * Turns a [KioskPolicy] into the ordered list of items the Android side applies, and the results
 * into one compliance summary. Pure, so what the device is told to do is tested here.
 */
object KioskPolicyPlanner {
    const val REPORT_KIOSK_STATUS = "dev.fleetmdm.agent.permission.REPORT_KIOSK_STATUS"

    fun plan(policy: KioskPolicy, agentPackage: String, kioskPackage: String?): List<PolicyItem> {
        val items = ArrayList<PolicyItem>()
        val lockPackages = if (kioskPackage != null) "$kioskPackage,$agentPackage" else agentPackage
        items.add(PolicyItem(PolicyItem.Kind.LOCK_TASK_PACKAGES, "packages", if (policy.lockTask) lockPackages else "", 21))
        // Home and the global actions stay off in lock task; the status bar shows system info only.
        items.add(PolicyItem(PolicyItem.Kind.LOCK_TASK_FEATURES, "features", "system_info", 28))
        // The agent's home screen is the persistent home whenever the kiosk is locked or a kiosk app is set.
        items.add(PolicyItem(PolicyItem.Kind.HOME_ACTIVITY, "home", (policy.lockTask || kioskPackage != null).toString(), 21))
        items.add(PolicyItem(PolicyItem.Kind.KEYGUARD_DISABLED, "keyguard", policy.keyguardDisabled.toString(), 23))
        items.add(PolicyItem(PolicyItem.Kind.STATUS_BAR_DISABLED, "statusBar", policy.statusBarDisabled.toString(), 23))
        for ((key, on) in policy.restrictions) items.add(PolicyItem(PolicyItem.Kind.USER_RESTRICTION, key, on.toString(), 21))
        val w = policy.updateWindow
        items.add(PolicyItem(PolicyItem.Kind.SYSTEM_UPDATE_POLICY, "window", if (w == null) null else "${w.startMinutes}-${w.endMinutes}", 23))
        if (kioskPackage != null) {
            val permissions = LinkedHashSet<String>()
            permissions.add(REPORT_KIOSK_STATUS)
            permissions.addAll(policy.kioskPermissions)
            for (p in permissions) items.add(PolicyItem(PolicyItem.Kind.PERMISSION_GRANT, p, kioskPackage, 23))
        }
        return items
    }

    /** Items the platform at [sdkInt] does not have, marked unsupported without being tried. */
    fun unsupported(items: List<PolicyItem>, sdkInt: Int): List<Compliance> =
        items.filter { it.minSdk > sdkInt }.map { Compliance(it, Compliance.Status.UNSUPPORTED, "needs API ${it.minSdk}, device has $sdkInt") }

    /** The `policy.applied` event's data: counts and the first failures with their reasons. */
    fun summary(results: List<Compliance>): Map<String, Any?> {
        val out = LinkedHashMap<String, Any?>()
        out["applied"] = results.count { it.status == Compliance.Status.APPLIED }
        out["failed"] = results.count { it.status == Compliance.Status.FAILED }
        out["unsupported"] = results.count { it.status == Compliance.Status.UNSUPPORTED }
        for (r in results.filter { it.status != Compliance.Status.APPLIED }.take(15)) {
            out[r.item.id.take(64)] = "${Ascii.lower(r.status.name)}: ${r.reason ?: ""}".take(200)
        }
        return out
    }
}

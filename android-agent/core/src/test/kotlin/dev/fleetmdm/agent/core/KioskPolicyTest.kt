package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.kiosk.Compliance
import dev.fleetmdm.agent.core.kiosk.KioskPolicy
import dev.fleetmdm.agent.core.kiosk.KioskPolicyPlanner
import dev.fleetmdm.agent.core.kiosk.PolicyItem
import dev.fleetmdm.agent.core.kiosk.UpdateWindow
import dev.fleetmdm.agent.core.kiosk.UserRestrictions
import dev.fleetmdm.agent.core.protocol.Json
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class KioskPolicyTest {
    @Test
    fun `the defaults lock the kiosk safely`() {
        val d = KioskPolicy.DEFAULT
        assertTrue(d.lockTask && d.keyguardDisabled && d.statusBarDisabled)
        for (key in listOf(UserRestrictions.SAFE_BOOT, UserRestrictions.FACTORY_RESET, UserRestrictions.USB_FILE_TRANSFER, UserRestrictions.ADD_USER, UserRestrictions.INSTALL_UNKNOWN_SOURCES)) {
            assertEquals(true, d.restrictions[key], key)
        }
        assertEquals(false, d.restrictions[UserRestrictions.CONFIG_WIFI])
        assertEquals(false, d.restrictions[UserRestrictions.ADJUST_VOLUME])
        assertEquals(false, d.restrictions[UserRestrictions.DEBUGGING_FEATURES])
        assertEquals(UpdateWindow(120, 240), d.updateWindow)
        assertEquals(120, d.restartFrozenAfterSec)
    }

    @Test
    fun `a server policy overrides field by field, and bad members keep the default`() {
        val p = KioskPolicy.fromJson(
            Json.parseObject(
                "{\"statusBarDisabled\":false,\"restrictions\":{\"no_config_wifi\":true,\"no_safe_boot\":\"yes\",\"no_such\":true}," +
                    "\"updateWindow\":{\"startMinutes\":1380,\"endMinutes\":60},\"kioskPermissions\":[\"android.permission.CAMERA\",\"bad perm\",3]," +
                    "\"restartFrozenAfterSec\":0,\"lockTask\":\"no\"}"
            )
        )
        assertEquals(false, p.statusBarDisabled)
        assertEquals(true, p.lockTask)
        assertEquals(true, p.restrictions[UserRestrictions.CONFIG_WIFI])
        assertEquals(true, p.restrictions[UserRestrictions.SAFE_BOOT])
        assertEquals(null, p.restrictions["no_such"])
        assertEquals(UpdateWindow(1380, 60), p.updateWindow)
        assertEquals(listOf("android.permission.CAMERA"), p.kioskPermissions)
        assertEquals(0, p.restartFrozenAfterSec)
        assertNull(KioskPolicy.fromJson(Json.parseObject("{\"updateWindow\":null}")).updateWindow)
        assertEquals(UpdateWindow(120, 240), KioskPolicy.fromJson(Json.parseObject("{\"updateWindow\":{\"startMinutes\":2000,\"endMinutes\":1}}")).updateWindow)
    }

    @Test
    fun `the plan locks the agent alone without a kiosk app, and grants the kiosk app its report permission`() {
        val alone = KioskPolicyPlanner.plan(KioskPolicy.DEFAULT, "dev.fleetmdm.agent", null)
        assertEquals("dev.fleetmdm.agent", alone.first { it.kind == PolicyItem.Kind.LOCK_TASK_PACKAGES }.value)
        assertEquals("true", alone.first { it.kind == PolicyItem.Kind.HOME_ACTIVITY }.value)
        assertTrue(alone.none { it.kind == PolicyItem.Kind.PERMISSION_GRANT })
        assertEquals("120-240", alone.first { it.kind == PolicyItem.Kind.SYSTEM_UPDATE_POLICY }.value)

        val policy = KioskPolicy(kioskPermissions = listOf("android.permission.CAMERA", KioskPolicyPlanner.REPORT_KIOSK_STATUS))
        val kiosk = KioskPolicyPlanner.plan(policy, "dev.fleetmdm.agent", "com.example.kiosk")
        assertEquals("com.example.kiosk,dev.fleetmdm.agent", kiosk.first { it.kind == PolicyItem.Kind.LOCK_TASK_PACKAGES }.value)
        assertEquals(
            listOf("permission_grant:${KioskPolicyPlanner.REPORT_KIOSK_STATUS}", "permission_grant:android.permission.CAMERA"),
            kiosk.filter { it.kind == PolicyItem.Kind.PERMISSION_GRANT }.map { it.id }
        )
        assertEquals(8, kiosk.count { it.kind == PolicyItem.Kind.USER_RESTRICTION })
    }

    @Test
    fun `items the device's API level lacks are unsupported, and the summary names what did not apply`() {
        val items = KioskPolicyPlanner.plan(KioskPolicy.DEFAULT, "dev.fleetmdm.agent", "com.example.kiosk")
        val unsupported = KioskPolicyPlanner.unsupported(items, 26)
        assertEquals(listOf("lock_task_features"), unsupported.map { it.item.id })
        val results = items.filter { it.minSdk <= 26 }.map {
            if (it.id == "keyguard_disabled") Compliance(it, Compliance.Status.FAILED, "a secure lock screen is set") else Compliance(it, Compliance.Status.APPLIED, null)
        } + unsupported
        val summary = KioskPolicyPlanner.summary(results)
        assertEquals(items.size - 2, summary["applied"])
        assertEquals(1, summary["failed"])
        assertEquals(1, summary["unsupported"])
        assertEquals("failed: a secure lock screen is set", summary["keyguard_disabled"])
        assertEquals("unsupported: needs API 28, device has 26", summary["lock_task_features"])
    }
}

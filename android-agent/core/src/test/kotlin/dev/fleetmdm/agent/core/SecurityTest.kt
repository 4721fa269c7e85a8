package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.net.ServerUrlPolicy
import dev.fleetmdm.agent.core.security.EnrollDecision
import dev.fleetmdm.agent.core.security.EnrollExtras
import dev.fleetmdm.agent.core.security.EnrollGate
import dev.fleetmdm.agent.core.security.EnrollSource
import dev.fleetmdm.agent.core.security.KioskReportGate
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class SecurityTest {
    private val token = "mdmet_" + "A".repeat(43)

    private fun decide(
        extras: EnrollExtras = EnrollExtras("https://mdm.example.com", token, null, false),
        source: EnrollSource = EnrollSource.SHELL,
        uid: Int? = null,
        owner: Boolean = true,
        enrolled: Boolean = false,
        build: Boolean = false
    ): String = when (val d = EnrollGate.decide(source, uid, owner, enrolled, extras, build)) {
        is EnrollDecision.Accept -> "accept ${d.serverUrl} ${d.kioskPackage} ${d.allowCleartext}"
        is EnrollDecision.Refuse -> d.reason
    }

    @Test
    fun `enrollment extras are taken only by an unenrolled Device Owner from the shell or provisioning`() {
        assertEquals("accept https://mdm.example.com null false", decide())
        assertEquals("accept https://mdm.example.com null false", decide(source = EnrollSource.PROVISIONING))
        assertEquals("accept https://mdm.example.com null false", decide(uid = EnrollGate.SHELL_UID))
        assertEquals("accept https://mdm.example.com null false", decide(uid = 0))
        // Android 14+ names the sender when it shared its identity: an app's uid is refused even if it got past the permission.
        assertEquals("sender_not_shell", decide(uid = 10_123))
        assertEquals("already_enrolled", decide(enrolled = true))
        assertEquals("not_device_owner", decide(owner = false))
    }

    @Test
    fun `enrollment extras are checked field by field`() {
        assertEquals("server_url_missing", decide(EnrollExtras(null, token, null, false)))
        assertEquals("cleartext_not_allowed", decide(EnrollExtras("http://10.0.2.2:8080", token, null, false)))
        assertEquals("accept http://10.0.2.2:8080 null true", decide(EnrollExtras("http://10.0.2.2:8080", token, null, true)))
        assertEquals("accept http://10.0.2.2:8080 null false", decide(EnrollExtras("http://10.0.2.2:8080", token, null, false), build = true))
        assertEquals("invalid_server_url", decide(EnrollExtras("ftp://mdm.example.com", token, null, false)))
        assertEquals("enrollment_token_invalid", decide(EnrollExtras("https://mdm.example.com", "mdmet_short", null, false)))
        assertEquals("enrollment_token_invalid", decide(EnrollExtras("https://mdm.example.com", null, null, false)))
        assertEquals("kiosk_package_invalid", decide(EnrollExtras("https://mdm.example.com", token, "not a package", false)))
        assertEquals("accept https://mdm.example.com com.example.kiosk false", decide(EnrollExtras(" https://mdm.example.com ", token, " com.example.kiosk ", false)))
        assertEquals("accept https://mdm.example.com null false", decide(EnrollExtras("https://mdm.example.com", token, "", false)))
    }

    @Test
    fun `the kiosk_permissions extra is a checked comma-separated list`() {
        val ok = EnrollGate.decide(
            EnrollSource.PROVISIONING, null, true, false,
            EnrollExtras("https://mdm.example.com", token, "com.example.kiosk", false, " android.permission.CAMERA, android.permission.RECORD_AUDIO,,android.permission.CAMERA "),
            false
        ) as EnrollDecision.Accept
        assertEquals(listOf("android.permission.CAMERA", "android.permission.RECORD_AUDIO"), ok.kioskPermissions)
        assertEquals("kiosk_permissions_invalid", decide(EnrollExtras("https://mdm.example.com", token, null, false, "android.permission.CAMERA;rm -rf")))
    }

    @Test
    fun `server URLs are https always,, http only when explicitly allowed, nothing odd`() {
        assertNull(ServerUrlPolicy.check("https://mdm.example.com", false))
        assertNull(ServerUrlPolicy.check("https://mdm.example.com:8443/base/", false))
        assertEquals("cleartext_not_allowed", ServerUrlPolicy.check("http://mdm.example.com", false))
        assertNull(ServerUrlPolicy.check("http://mdm.example.com", true))
        assertEquals("invalid_server_url", ServerUrlPolicy.check("https://user:pw@mdm.example.com", false))
        assertEquals("invalid_server_url", ServerUrlPolicy.check("https://mdm.example.com/?x=1", false))
        assertEquals("invalid_server_url", ServerUrlPolicy.check("https:///nohost", false))
        assertEquals("invalid_server_url", ServerUrlPolicy.check("not a url", false))
        assertTrue(ServerUrlPolicy.extraAllows(true))
        assertTrue(ServerUrlPolicy.extraAllows("true"))
        assertFalse(ServerUrlPolicy.extraAllows("yes"))
        assertFalse(ServerUrlPolicy.extraAllows(null))
        assertFalse(ServerUrlPolicy.extraAllows(false))
    }

    @Test
    fun `frame reports count only for the kiosk package, from it where the platform says`() {
        assertTrue(KioskReportGate.accept("com.example.kiosk", "com.example.kiosk", null))
        assertTrue(KioskReportGate.accept("com.example.kiosk", "com.example.kiosk", "com.example.kiosk"))
        assertFalse(KioskReportGate.accept("com.example.kiosk", "com.example.kiosk", "com.evil.app"))
        assertFalse(KioskReportGate.accept("com.evil.app", "com.example.kiosk", null))
        assertFalse(KioskReportGate.accept("com.example.kiosk", null, null))
        assertFalse(KioskReportGate.accept(null, "com.example.kiosk", null))
        assertEquals(500L, KioskReportGate.frameTime(500, 1000))
        assertEquals(1000L, KioskReportGate.frameTime(5000, 1000))
        assertEquals(1000L, KioskReportGate.frameTime(-1, 1000))
    }
}

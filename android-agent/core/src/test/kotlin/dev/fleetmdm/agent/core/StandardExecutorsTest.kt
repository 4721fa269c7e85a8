package dev.fleetmdm.agent.core

import com.sun.net.httpserver.HttpServer
import dev.fleetmdm.agent.core.command.AgentControl
import dev.fleetmdm.agent.core.command.ApkInstaller
import dev.fleetmdm.agent.core.command.Command
import dev.fleetmdm.agent.core.command.DevicePower
import dev.fleetmdm.agent.core.command.ExecutionResult
import dev.fleetmdm.agent.core.command.InstallOutcome
import dev.fleetmdm.agent.core.command.KioskApps
import dev.fleetmdm.agent.core.command.Params
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.net.UrlConnectionHttpClient
import dev.fleetmdm.agent.core.protocol.Json
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.net.InetSocketAddress
import java.security.MessageDigest

class StandardExecutorsTest {
    @TempDir
    lateinit var dir: File

    private val calls = ArrayList<String>()
    private var kiosk: String? = "com.example.kiosk"
    private var clearError: String? = null
    private var server: HttpServer? = null

    private val power = object : DevicePower {
        override fun reboot() { calls.add("reboot") }
        override fun lockScreen() { calls.add("lock") }
        override fun wipe() { calls.add("wipe") }
    }
    private val apps = object : KioskApps {
        override fun relaunch(packageName: String) { calls.add("relaunch $packageName") }
        override fun clearData(packageName: String): String? {
            calls.add("clear $packageName")
            return clearError
        }
    }
    private val installer = object : ApkInstaller {
        override fun install(apk: File, versionCode: Long): InstallOutcome {
            calls.add("install ${apk.length()} bytes v$versionCode")
            return InstallOutcome.Installed("com.example.kiosk", "2.3.1", versionCode)
        }
    }
    private val control = object : AgentControl {
        override fun heartbeatNow() { calls.add("beat now") }
        override fun setHeartbeatIntervalSec(seconds: Int) { calls.add("interval $seconds") }
        override fun setKioskPackage(packageName: String) { calls.add("kiosk $packageName") }
        override fun kioskPackage(): String? = kiosk
    }

    // The downloader only accepts https URLs through the executor; the test server speaks http, so
    // the executor under test gets a downloader that maps https://apk.test/ onto it.
    private val http = UrlConnectionHttpClient()
    private val downloader = object : dev.fleetmdm.agent.core.net.Downloader {
        override fun download(url: String, dest: File, maxBytes: Long) =
            http.download(url.replace("https://apk.test", "http://127.0.0.1:${server!!.address.port}"), dest, maxBytes)
    }
    private val executors by lazy { StandardExecutors(power, apps, installer, downloader, control, File(dir, "downloads")).all() }

    @AfterEach
    fun stopServer() {
        server?.stop(0)
    }

    private fun run(type: String, params: String = "{}"): ExecutionResult =
        executors.getValue(type).execute(Command("cid", type, Params(Json.parseObject(params)!!), NOW_SEC, NOW_SEC + 60))

    private fun serve(bytes: ByteArray) {
        val s = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        s.createContext("/agent.apk") { exchange ->
            exchange.sendResponseHeaders(200, bytes.size.toLong())
            exchange.responseBody.use { it.write(bytes) }
        }
        s.start()
        server = s
    }

    private fun sha256(bytes: ByteArray): String =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { String.format("%02x", it) }

    @Test
    fun `every protocol type has an executor`() {
        assertEquals(setOf("REBOOT", "RELAUNCH_APP", "PING", "LOCK", "CLEAR_APP_DATA", "INSTALL_APK", "SET_CONFIG", "WIPE"), executors.keys)
    }

    @Test
    fun `REBOOT and WIPE act only after their result is reported`() {
        val reboot = run("REBOOT")
        val wipe = run("WIPE")
        assertTrue(reboot.succeeded && wipe.succeeded)
        assertEquals(emptyList<String>(), calls)
        reboot.afterReport!!()
        wipe.afterReport!!()
        assertEquals(listOf("reboot", "wipe"), calls)
    }

    @Test
    fun `PING asks for a heartbeat, LOCK locks, RELAUNCH_APP relaunches the kiosk app`() {
        assertEquals("pong", run("PING").output)
        assertTrue(run("LOCK").succeeded)
        assertTrue(run("RELAUNCH_APP").succeeded)
        assertEquals(listOf("beat now", "lock", "relaunch com.example.kiosk"), calls)
        kiosk = null
        assertEquals("no kiosk package is configured", run("RELAUNCH_APP").error)
    }

    @Test
    fun `CLEAR_APP_DATA clears then relaunches, and reports a failure`() {
        assertTrue(run("CLEAR_APP_DATA").succeeded)
        assertEquals(listOf("clear com.example.kiosk", "relaunch com.example.kiosk"), calls)
        clearError = "not device owner"
        val failed = run("CLEAR_APP_DATA")
        assertFalse(failed.succeeded)
        assertEquals("clearing com.example.kiosk failed: not device owner", failed.error)
    }

    @Test
    fun `INSTALL_APK downloads, checks the hash and installs`() {
        val apk = ByteArray(200_000) { (it % 251).toByte() }
        serve(apk)
        val result = run("INSTALL_APK", "{\"url\":\"https://apk.test/agent.apk\",\"sha256\":\"${sha256(apk).toUpperCase_()}\",\"versionCode\":231}")
        assertTrue(result.succeeded, result.error)
        assertEquals(listOf("install 200000 bytes v231"), calls)
        assertEquals("installed com.example.kiosk 2.3.1 (231)", result.output)
    }

    @Test
    fun `INSTALL_APK refuses a download whose hash differs and installs nothing`() {
        serve("not the apk".toByteArray())
        val result = run("INSTALL_APK", "{\"url\":\"https://apk.test/agent.apk\",\"sha256\":\"${"0".repeat(64)}\",\"versionCode\":231}")
        assertFalse(result.succeeded)
        assertTrue(result.error!!.startsWith("sha256 mismatch"), result.error)
        assertEquals(emptyList<String>(), calls)
        assertEquals(0, File(dir, "downloads").listFiles()?.size ?: 0)
    }

    @Test
    fun `INSTALL_APK checks its params before downloading anything`() {
        val sha = "a".repeat(64)
        assertEquals("params.url must be an https URL", run("INSTALL_APK", "{\"url\":\"http://x.test/a.apk\",\"sha256\":\"$sha\",\"versionCode\":1}").error)
        assertEquals("params.sha256 must be 64 hex digits", run("INSTALL_APK", "{\"url\":\"https://x.test/a.apk\",\"sha256\":\"xyz\",\"versionCode\":1}").error)
        assertEquals("params.versionCode must be a positive integer", run("INSTALL_APK", "{\"url\":\"https://x.test/a.apk\",\"sha256\":\"$sha\",\"versionCode\":1.5}").error)
        assertEquals(emptyList<String>(), calls)
    }

    @Test
    fun `INSTALL_APK of the agent itself installs after the report`() {
        val apk = ByteArray(1000) { 7 }
        serve(apk)
        var installed = false
        val self = StandardExecutors(power, apps, object : ApkInstaller {
            override fun install(apk: File, versionCode: Long) = InstallOutcome.ReplacesAgent({ installed = true }, "updating the agent to $versionCode")
        }, downloader, control, File(dir, "dl")).all()
        val result = self.getValue("INSTALL_APK").execute(
            Command("cid", "INSTALL_APK", Params(Json.parseObject("{\"url\":\"https://apk.test/agent.apk\",\"sha256\":\"${sha256(apk)}\",\"versionCode\":300}")!!), 0, 0)
        )
        assertEquals("updating the agent to 300", result.output)
        assertFalse(installed)
        result.afterReport!!()
        assertTrue(installed)
    }

    @Test
    fun `SET_CONFIG validates and applies each setting`() {
        assertEquals("heartbeatIntervalSec=120, kioskPackage=com.example.other", run("SET_CONFIG", "{\"heartbeatIntervalSec\":120,\"kioskPackage\":\"com.example.other\"}").output)
        assertEquals(listOf("interval 120", "kiosk com.example.other"), calls)
        calls.clear()
        assertEquals("nothing to set", run("SET_CONFIG").error)
        assertEquals("heartbeatIntervalSec must be 5-86400", run("SET_CONFIG", "{\"heartbeatIntervalSec\":1}").error)
        assertEquals("heartbeatIntervalSec must be 5-86400", run("SET_CONFIG", "{\"heartbeatIntervalSec\":\"60\"}").error)
        assertEquals("kioskPackage must be an Android package name", run("SET_CONFIG", "{\"kioskPackage\":\"no-dots\"}").error)
        assertEquals(emptyList<String>(), calls)
    }

    @Test
    fun `params are read with their JSON types`() {
        val p = Params(Json.parseObject("{\"a\":231,\"b\":231.0,\"c\":2.5,\"d\":\"231\",\"e\":true}")!!)
        assertEquals(231L, p.wholeNumber("a"))
        assertEquals(231L, p.wholeNumber("b"))
        assertNull(p.wholeNumber("c"))
        assertNull(p.wholeNumber("d"))
        assertEquals("231", p.string("d"))
        assertEquals(true, p.boolean("e"))
    }
}

/** ASCII upper case without String.toUpperCase (deprecated in current Kotlin, absent as uppercase in 1.3). */
private fun String.toUpperCase_(): String = map { if (it in 'a'..'z') 'A' + (it - 'a') else it }.joinToString("")

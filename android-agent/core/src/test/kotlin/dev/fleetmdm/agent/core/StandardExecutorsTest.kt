package dev.fleetmdm.agent.core

import com.sun.net.httpserver.HttpServer
import dev.fleetmdm.agent.core.command.AgentControl
import dev.fleetmdm.agent.core.command.ApkInstaller
import dev.fleetmdm.agent.core.command.Command
import dev.fleetmdm.agent.core.command.DevicePower
import dev.fleetmdm.agent.core.command.ExecutionResult
import dev.fleetmdm.agent.core.command.KioskApps
import dev.fleetmdm.agent.core.command.Params
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.agent.PendingOutcomes
import dev.fleetmdm.agent.core.agent.monotonicClock
import dev.fleetmdm.agent.core.command.ResultReporter
import dev.fleetmdm.agent.core.install.ApkFacts
import dev.fleetmdm.agent.core.install.InstalledPackage
import dev.fleetmdm.agent.core.protocol.CommandResult
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

    private var powerError: RuntimeException? = null
    private val power = object : DevicePower {
        override fun reboot() {
            calls.add("reboot")
            powerError?.let { throw it }
        }
        override fun lockScreen() { calls.add("lock") }
        override fun wipe() {
            calls.add("wipe")
            powerError?.let { throw it }
        }
        override fun releaseOwner() {
            calls.add("release owner")
            powerError?.let { throw it }
        }
    }
    private val apps = object : KioskApps {
        override fun relaunch(packageName: String): String? {
            calls.add("relaunch $packageName")
            return null
        }
        override fun clearData(packageName: String): String? {
            calls.add("clear $packageName")
            return clearError
        }
    }
    private val cert = "kiosk signing certificate (DER in real life)".toByteArray()
    private val signer = TestApks.sha256Hex(cert)
    /** What the fake package manager reads from the archive and lists as installed. */
    private var facts: ApkFacts? = ApkFacts("com.example.kiosk", 231, "2.3.1", listOf(signer))
    private val installedPackages = HashMap<String, InstalledPackage>()
    private var installError: String? = null
    private var installedVersionAfter: Long? = null
    private var seenApkExists = false
    private val installer = object : ApkInstaller {
        override fun inspect(apk: File): ApkFacts? = facts
        override fun installed(packageName: String): InstalledPackage? = installedPackages[packageName]
        override fun install(apk: File, packageName: String): String? {
            seenApkExists = apk.isFile
            calls.add("install ${apk.length()} bytes $packageName")
            if (installError != null) return installError
            val f = facts!!
            installedPackages[packageName] = InstalledPackage(installedVersionAfter ?: f.versionCode, f.versionName, f.signerSha256)
            return null
        }
    }
    private val control = object : AgentControl {
        override fun heartbeatNow() { calls.add("beat now") }
        override fun setHeartbeatIntervalSec(seconds: Int) { calls.add("interval $seconds") }
        override fun setKioskPackage(packageName: String) { calls.add("kiosk $packageName") }
        override fun kioskPackage(): String? = kiosk
        override fun forgetEnrollment(reason: String) { calls.add("forget $reason") }
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
        assertEquals(setOf("REBOOT", "RELAUNCH_APP", "PING", "LOCK", "CLEAR_APP_DATA", "INSTALL_APK", "SET_CONFIG", "WIPE", "RELEASE_OWNER"), executors.keys)
    }

    @Test
    fun `RELEASE_OWNER gives up Device Owner, then forgets the enrollment only after the report`() {
        val released = run("RELEASE_OWNER")
        assertTrue(released.succeeded)
        assertEquals(listOf("release owner"), calls) // still enrolled: the result must get out first
        released.afterReport!!()
        assertEquals(listOf("release owner", "forget RELEASE_OWNER"), calls)
        calls.clear()
        powerError = SecurityException("not device owner")
        val refused = run("RELEASE_OWNER")
        assertEquals("release refused: SecurityException: not device owner", refused.error)
        assertNull(refused.afterReport)
        assertEquals(listOf("release owner"), calls) // refused: the agent stays enrolled and keeps reporting
    }

    @Test
    fun `REBOOT and WIPE report success only after DevicePolicyManager accepted the call`() {
        val reboot = run("REBOOT")
        val wipe = run("WIPE")
        assertEquals(listOf("reboot", "wipe"), calls)
        assertTrue(reboot.succeeded && wipe.succeeded)
        assertNull(reboot.afterReport)
        powerError = SecurityException("not device owner")
        assertEquals("reboot refused: SecurityException: not device owner", run("REBOOT").error)
        assertEquals("wipe refused: SecurityException: not device owner", run("WIPE").error)
    }

    @Test
    fun `REBOOT with a pending store is reported by the next boot, or failed when no reboot came`() {
        var boot = "7"
        val elapsed = ManualClock(1_000)
        val file = File(dir, "pending.json")
        val pending = PendingOutcomes(file, { boot }, monotonicClock(elapsed.now), 100)
        val ex = StandardExecutors(power, apps, installer, downloader, control, File(dir, "dl"), pending = pending).all()
        val result = ex.getValue("REBOOT").execute(Command("cmd-r", "REBOOT", Params(Json.parseObject("{}")!!), 0, 0))
        assertTrue(result.deferred)
        val reports = ArrayList<String>()
        val reporter = object : ResultReporter {
            override fun report(cid: String, result: CommandResult) { reports.add("$cid ${result.status} ${result.output ?: result.error}") }
        }
        assertEquals(0, pending.resolve(reporter))
        // The next process, after the boot: a new boot count.
        boot = "8"
        val after = PendingOutcomes(file, { boot }, monotonicClock(elapsed.now), 100)
        assertEquals(1, after.resolve(reporter))
        assertEquals(listOf("cmd-r succeeded rebooted (the device booted again)"), reports)
        assertEquals(0, PendingOutcomes(file, { boot }, monotonicClock(elapsed.now), 100).size())
        // A reboot the platform accepted but never did.
        ex.getValue("REBOOT").execute(Command("cmd-s", "REBOOT", Params(Json.parseObject("{}")!!), 0, 0))
        val stuck = PendingOutcomes(file, { boot }, monotonicClock(elapsed.now), 100)
        elapsed.ms += PendingOutcomes.REBOOT_TIMEOUT_MS + 1
        stuck.resolve(reporter)
        assertEquals("cmd-s failed no reboot within 10 minutes of DevicePolicyManager.reboot", reports.last())
        // A refused reboot leaves nothing pending.
        val other = File(dir, "pending2.json")
        val fresh = StandardExecutors(power, apps, installer, downloader, control, File(dir, "dl"), pending = PendingOutcomes(other, { boot }, monotonicClock(elapsed.now), 100)).all()
        powerError = IllegalStateException("no")
        assertFalse(fresh.getValue("REBOOT").execute(Command("cmd-t", "REBOOT", Params(Json.parseObject("{}")!!), 0, 0)).succeeded)
        assertEquals(0, PendingOutcomes(other, { boot }, monotonicClock(elapsed.now), 100).size())
    }

    @Test
    fun `PING asks for a heartbeat, LOCK locks, RELAUNCH_APP relaunches the kiosk app`() {
        assertEquals("pong", run("PING").output)
        assertTrue(run("LOCK").succeeded)
        assertEquals("restarted com.example.kiosk", run("RELAUNCH_APP").output)
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

    private fun installParams(sha: String, versionCode: Long = 231, pkg: String = "com.example.kiosk", extra: String = ""): String =
        "{\"releaseId\":\"rel-1\",\"url\":\"https://apk.test/agent.apk\",\"sha256\":\"$sha\",\"signerSha256\":\"$signer\"," +
            "\"packageName\":\"$pkg\",\"versionCode\":$versionCode$extra}"

    private fun downloads(): Int = File(dir, "downloads").listFiles()?.size ?: 0

    @Test
    fun `INSTALL_APK verifies hash, package, version and signer, installs, confirms, and deletes the download`() {
        val apk = TestApks.apk(mapOf(TestApks.V2 to listOf(cert), TestApks.V3 to listOf(cert)))
        serve(apk)
        val result = run("INSTALL_APK", installParams(sha256(apk).toUpperCase_()))
        assertTrue(result.succeeded, result.error)
        assertEquals(listOf("install ${apk.size} bytes com.example.kiosk"), calls)
        assertEquals("installed com.example.kiosk (231), release rel-1", result.output)
        assertTrue(seenApkExists)
        assertEquals(0, downloads())
    }

    @Test
    fun `INSTALL_APK refuses a wrong signer, package, version or a missing signature block, and deletes the download`() {
        val otherKey = TestApks.apk(mapOf(TestApks.V2 to listOf("someone else".toByteArray())))
        serve(otherKey)
        assertTrue(run("INSTALL_APK", installParams(sha256(otherKey))).error!!.startsWith("signer mismatch: expected $signer"))
        assertEquals(0, downloads())
        server!!.stop(0)

        // A v2 block with the right certificate does not vouch for a v3 block with another.
        val mixed = TestApks.apk(mapOf(TestApks.V2 to listOf(cert), TestApks.V3 to listOf("rotated".toByteArray())))
        serve(mixed)
        assertTrue(run("INSTALL_APK", installParams(sha256(mixed))).error!!.startsWith("signer mismatch"))
        server!!.stop(0)

        val unsigned = TestApks.apk(emptyMap())
        serve(unsigned)
        assertEquals("the APK has no APK Signature Scheme v2/v3 block", run("INSTALL_APK", installParams(sha256(unsigned))).error)
        server!!.stop(0)

        val good = TestApks.apk(mapOf(TestApks.V2 to listOf(cert)))
        serve(good)
        facts = ApkFacts("com.evil.app", 231, "1", listOf(signer))
        assertEquals("the APK is com.evil.app, the command named com.example.kiosk", run("INSTALL_APK", installParams(sha256(good))).error)
        facts = ApkFacts("com.example.kiosk", 230, "1", listOf(signer))
        assertEquals("the APK has versionCode 230, the command named 231", run("INSTALL_APK", installParams(sha256(good))).error)
        facts = ApkFacts("com.example.kiosk", 231, "1", listOf("ab".repeat(32)))
        assertTrue(run("INSTALL_APK", installParams(sha256(good))).error!!.startsWith("signer mismatch: the package manager reads"))
        facts = null
        assertEquals("the download is not an APK the package manager can read", run("INSTALL_APK", installParams(sha256(good))).error)
        assertEquals(emptyList<String>(), calls)
        assertEquals(0, downloads())
    }

    @Test
    fun `INSTALL_APK refuses a downgrade unless allowed, and an installed version is a success without installing`() {
        val apk = TestApks.apk(mapOf(TestApks.V2 to listOf(cert)))
        serve(apk)
        installedPackages["com.example.kiosk"] = InstalledPackage(240, "2.4.0", listOf(signer))
        assertTrue(run("INSTALL_APK", installParams(sha256(apk))).error!!.startsWith("downgrade refused"))
        assertEquals(emptyList<String>(), calls)
        assertTrue(run("INSTALL_APK", installParams(sha256(apk), extra = ",\"allowDowngrade\":true")).succeeded)
        assertEquals(1, calls.size)
        calls.clear()
        val again = run("INSTALL_APK", installParams(sha256(apk)))
        assertTrue(again.succeeded)
        assertEquals("com.example.kiosk 2.3.1 (231) is installed already", again.output)
        assertEquals(emptyList<String>(), calls)
        installedPackages["com.example.kiosk"] = InstalledPackage(100, "1.0", listOf("cd".repeat(32)))
        assertTrue(run("INSTALL_APK", installParams(sha256(apk))).error!!.contains("signed by another key"))
    }

    @Test
    fun `INSTALL_APK is a success only when the package manager lists the new version`() {
        val apk = TestApks.apk(mapOf(TestApks.V3 to listOf(cert)))
        serve(apk)
        installError = "INSTALL_FAILED_INSUFFICIENT_STORAGE"
        assertEquals("install failed: INSTALL_FAILED_INSUFFICIENT_STORAGE", run("INSTALL_APK", installParams(sha256(apk))).error)
        installError = null
        installedVersionAfter = 230
        assertEquals("the package manager reports com.example.kiosk 230, not 231", run("INSTALL_APK", installParams(sha256(apk))).error)
        assertEquals(0, downloads())
    }

    @Test
    fun `INSTALL_APK refuses a download whose hash differs and installs nothing`() {
        serve("not the apk".toByteArray())
        val result = run("INSTALL_APK", installParams("0".repeat(64)))
        assertFalse(result.succeeded)
        assertTrue(result.error!!.startsWith("sha256 mismatch"), result.error)
        assertEquals(emptyList<String>(), calls)
        assertEquals(0, downloads())
    }

    @Test
    fun `INSTALL_APK checks its params before downloading anything`() {
        val sha = "a".repeat(64)
        assertEquals("params.url must be an https URL", run("INSTALL_APK", installParams(sha).replace("https://apk.test", "http://apk.test")).error)
        assertEquals("params.sha256 must be 64 hex digits", run("INSTALL_APK", installParams("xyz")).error)
        assertEquals("params.versionCode must be a positive integer", run("INSTALL_APK", installParams(sha).replace(":231", ":1.5")).error)
        assertEquals("params.packageName must be an Android package name", run("INSTALL_APK", installParams(sha, pkg = "nodots")).error)
        assertTrue(run("INSTALL_APK", installParams(sha).replace(signer, "")).error!!.startsWith("params.signerSha256"))
        assertTrue(run("INSTALL_APK", "{\"url\":\"https://x.test/a.apk\",\"sha256\":\"$sha\",\"versionCode\":1}").error!!.startsWith("params.signerSha256"))
        assertEquals("params.allowDowngrade must be a boolean", run("INSTALL_APK", installParams(sha, extra = ",\"allowDowngrade\":\"yes\"")).error)
        assertEquals(emptyList<String>(), calls)
    }

    @Test
    fun `INSTALL_APK of the agent itself is reported by the new agent, not before`() {
        val apk = TestApks.apk(mapOf(TestApks.V2 to listOf(cert)))
        serve(apk)
        facts = ApkFacts("dev.fleetmdm.agent", 300, "3.0.0", listOf(signer))
        installedPackages["dev.fleetmdm.agent"] = InstalledPackage(200, "2.0.0", listOf(signer))
        val elapsed = ManualClock(1_000)
        val file = File(dir, "pending.json")
        val pending = PendingOutcomes(file, { "5" }, monotonicClock(elapsed.now), 200)
        val self = StandardExecutors(power, apps, installer, downloader, control, File(dir, "dl"), "dev.fleetmdm.agent", pending).all()
        val cmd = Command("cmd-u", "INSTALL_APK", Params(Json.parseObject(installParams(sha256(apk), 300, "dev.fleetmdm.agent"))!!), 0, 0)
        val result = self.getValue("INSTALL_APK").execute(cmd)
        assertTrue(result.deferred)
        assertFalse(result.succeeded)
        assertEquals(0, File(dir, "dl").listFiles()?.size ?: 0)
        val reports = ArrayList<String>()
        val reporter = object : ResultReporter {
            override fun report(cid: String, result: CommandResult) { reports.add("$cid ${result.status} ${result.output ?: result.error}") }
        }
        // The old agent (200) does not report; the new one (300) does.
        assertEquals(0, PendingOutcomes(file, { "5" }, monotonicClock(elapsed.now), 200).resolve(reporter))
        assertEquals(1, PendingOutcomes(file, { "5" }, monotonicClock(elapsed.now), 300).resolve(reporter))
        assertEquals(listOf("cmd-u succeeded agent updated to versionCode 300"), reports)

        // The next process of the old agent: a failed self-update is reported at once and leaves nothing pending.
        installedPackages["dev.fleetmdm.agent"] = InstalledPackage(200, "2.0.0", listOf(signer))
        val pending2 = PendingOutcomes(file, { "5" }, monotonicClock(elapsed.now), 200)
        val self2 = StandardExecutors(power, apps, installer, downloader, control, File(dir, "dl"), "dev.fleetmdm.agent", pending2).all()
        installError = "INSTALL_FAILED_VERIFICATION_FAILURE"
        val failed = self2.getValue("INSTALL_APK").execute(Command("cmd-v", "INSTALL_APK", cmd.params, 0, 0))
        assertEquals("install failed: INSTALL_FAILED_VERIFICATION_FAILURE", failed.error)
        assertEquals(0, pending2.size())
        // One that never took: still the old version after a boot.
        installError = null
        self2.getValue("INSTALL_APK").execute(Command("cmd-w", "INSTALL_APK", cmd.params, 0, 0))
        PendingOutcomes(file, { "6" }, monotonicClock(elapsed.now), 200).resolve(reporter)
        assertEquals("cmd-w failed the agent is still at versionCode 200 after installing 300", reports.last())
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

package dev.fleetmdm.agent.core

import dev.fleetmdm.agent.core.install.ApkSignatures
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.io.IOException

class ApkSignaturesTest {
    @TempDir
    lateinit var dir: File

    private val a = "certificate A".toByteArray()
    private val b = "certificate B".toByteArray()

    @Test
    fun `reads the first certificate of every signer in the v2 and v3 blocks`() {
        val file = TestApks.write(dir, "a.apk", TestApks.apk(linkedMapOf(TestApks.V2 to listOf(a, b), TestApks.V3 to listOf(a))))
        val signers = ApkSignatures.read(file)
        assertEquals(listOf(TestApks.sha256Hex(a), TestApks.sha256Hex(b)), signers.v2)
        assertEquals(listOf(TestApks.sha256Hex(a)), signers.v3)
        // The same digest apksigner prints: SHA-256 over the certificate's DER bytes, lowercase hex.
        assertEquals(64, signers.v3[0].length)
    }

    @Test
    fun `finds the end of the central directory behind a zip comment`() {
        val file = TestApks.write(dir, "c.apk", TestApks.apk(mapOf(TestApks.V3 to listOf(b)), comment = true))
        assertEquals(listOf(TestApks.sha256Hex(b)), ApkSignatures.read(file).v3)
    }

    @Test
    fun `a plain zip has no scheme block, garbage is an error`() {
        assertFalse(ApkSignatures.read(TestApks.write(dir, "p.apk", TestApks.apk(emptyMap()))).hasBlock)
        assertThrows(IOException::class.java) { ApkSignatures.read(TestApks.write(dir, "g.apk", ByteArray(5000) { 1 })) }
        assertThrows(IOException::class.java) { ApkSignatures.read(TestApks.write(dir, "s.apk", ByteArray(3))) }
        // A signing block whose inner lengths run past its end.
        val good = TestApks.apk(mapOf(TestApks.V2 to listOf(a)))
        val text = String(good, Charsets.ISO_8859_1)
        val at = text.indexOf("certificate A") - 4
        good[at] = 0x7f.toByte()
        assertThrows(IOException::class.java) { ApkSignatures.read(TestApks.write(dir, "t.apk", good)) }
    }
}

package dev.fleetmdm.agent.core

import java.io.ByteArrayOutputStream
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.security.MessageDigest
import java.util.zip.ZipEntry
import java.util.zip.ZipOutputStream

/**
 * Builds APK-shaped files for tests: a real zip with an APK Signing Block (v2 and/or v3 scheme
 * blocks naming the given certificates) between its entries and its central directory, laid out
 * as the APK Signature Scheme v2 specification has it. The signatures are empty: the parser under
 * test reads the certificates only (the package manager verifies the signatures).
 */
object TestApks {
    const val V2 = 0x7109871a
    val V3: Int = 0xf05368c0L.toInt()

    fun sha256Hex(bytes: ByteArray): String =
        MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { String.format("%02x", it) }

    fun zip(): ByteArray {
        val out = ByteArrayOutputStream()
        ZipOutputStream(out).use { z ->
            z.putNextEntry(ZipEntry("AndroidManifest.xml"))
            z.write(ByteArray(300) { (it * 7).toByte() })
            z.closeEntry()
            z.putNextEntry(ZipEntry("classes.dex"))
            z.write(ByteArray(5000) { (it % 13).toByte() })
            z.closeEntry()
        }
        return out.toByteArray()
    }

    /** An APK whose scheme blocks ([blocks]: block id to the signers' first certificates) sit before the central directory. */
    fun apk(blocks: Map<Int, List<ByteArray>>, comment: Boolean = false): ByteArray {
        var zip = zip()
        if (comment) zip = withComment(zip, "built by a test")
        if (blocks.isEmpty()) return zip
        val eocd = findEocd(zip)
        val cdOffset = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).getInt(eocd + 16)
        val block = signingBlock(blocks)
        val out = ByteArrayOutputStream()
        out.write(zip, 0, cdOffset)
        out.write(block)
        out.write(zip, cdOffset, zip.size - cdOffset)
        val bytes = out.toByteArray()
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + block.size + 16, cdOffset + block.size)
        return bytes
    }

    fun write(dir: File, name: String, bytes: ByteArray): File = File(dir, name).also { it.writeBytes(bytes) }

    private fun signingBlock(blocks: Map<Int, List<ByteArray>>): ByteArray {
        val pairs = ByteArrayOutputStream()
        for ((id, certs) in blocks) {
            val signers = ByteArrayOutputStream()
            for (cert in certs) {
                val signedData = lp(ByteArray(0)) + lp(lp(cert)) + lp(ByteArray(0))
                val signer = if (id == V3) lp(signedData) + le32(26) + le32(Int.MAX_VALUE) + lp(ByteArray(0)) + lp(ByteArray(0))
                else lp(signedData) + lp(ByteArray(0)) + lp(ByteArray(0))
                signers.write(lp(signer))
            }
            val value = lp(signers.toByteArray())
            pairs.write(le64(4L + value.size))
            pairs.write(le32(id))
            pairs.write(value)
        }
        val body = pairs.toByteArray()
        val size = body.size + 8L + 16
        return le64(size) + body + le64(size) + "APK Sig Block 42".toByteArray(Charsets.US_ASCII)
    }

    private fun withComment(zip: ByteArray, comment: String): ByteArray {
        val c = comment.toByteArray(Charsets.US_ASCII)
        val out = zip.copyOf(zip.size + c.size)
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putShort(zip.size - 2, c.size.toShort())
        System.arraycopy(c, 0, out, zip.size, c.size)
        return out
    }

    private fun findEocd(zip: ByteArray): Int {
        val b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN)
        for (i in zip.size - 22 downTo 0) if (b.getInt(i) == 0x06054b50) return i
        throw IllegalStateException("no EOCD")
    }

    private fun lp(bytes: ByteArray): ByteArray = le32(bytes.size) + bytes

    private fun le32(v: Int): ByteArray = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()

    private fun le64(v: Long): ByteArray = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()
}

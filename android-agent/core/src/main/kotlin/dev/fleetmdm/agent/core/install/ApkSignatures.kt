package dev.fleetmdm.agent.core.install

import java.io.File
import java.io.IOException
import java.io.RandomAccessFile
import java.nio.Buffer
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.security.MessageDigest

/**
 * Reads the signer certificates of an APK's APK Signature Scheme v2 and v3 blocks, in pure Kotlin,
 * and gives the SHA-256 of each block's first signer's certificate - the value apksigner prints as
 * "Signer #1 certificate SHA-256 digest" (lowercase hex).
 *
 * This does not check the signatures themselves: the package manager does, when it installs, and
 * refuses an APK whose signature does not verify against the certificate the block names. So a
 * certificate read here that matches the expected digest means: installed at all, it was signed by
 * that key. Both blocks are read and each present one must match, so a stale v2 block cannot
 * vouch for an APK the platform verifies by its v3 block.
 */
object ApkSignatures {
    const val V2_BLOCK_ID = 0x7109871a
    val V3_BLOCK_ID: Int = 0xf05368c0L.toInt()
    private const val EOCD_MIN = 22
    private const val EOCD_SIG = 0x06054b50
    private val MAGIC = "APK Sig Block 42".toByteArray(Charsets.US_ASCII)

    class Signers(val v2: List<String>, val v3: List<String>) {
        /** Every scheme block present, with its signers' certificate digests. */
        fun all(): List<String> = v2 + v3

        val hasBlock: Boolean get() = v2.isNotEmpty() || v3.isNotEmpty()
    }

    /** The first certificate's SHA-256 of every signer in the v2 and v3 blocks; throws IOException on a malformed file. */
    @Throws(IOException::class)
    fun read(file: File): Signers {
        RandomAccessFile(file, "r").use { raf ->
            val length = raf.length()
            if (length < EOCD_MIN) throw IOException("not a zip file")
            // The End of Central Directory record: last 22 bytes plus up to 64 KiB of comment.
            val tailLength = Math.min(length, (EOCD_MIN + 0xffff).toLong()).toInt()
            val tail = ByteArray(tailLength)
            raf.seek(length - tailLength)
            raf.readFully(tail)
            val buf = ByteBuffer.wrap(tail).order(ByteOrder.LITTLE_ENDIAN)
            var eocd = -1
            var i = tailLength - EOCD_MIN
            while (i >= 0) {
                if (buf.getInt(i) == EOCD_SIG && (buf.getShort(i + 20).toInt() and 0xffff) == tailLength - EOCD_MIN - i) {
                    eocd = i
                    break
                }
                i--
            }
            if (eocd < 0) throw IOException("no zip end of central directory")
            val cdOffset = buf.getInt(eocd + 16).toLong() and 0xffffffffL
            if (cdOffset < 32 || cdOffset > length) throw IOException("bad central directory offset")
            // The signing block ends right before the central directory: size (8) + magic (16).
            val footer = ByteArray(24)
            raf.seek(cdOffset - 24)
            raf.readFully(footer)
            val fb = ByteBuffer.wrap(footer).order(ByteOrder.LITTLE_ENDIAN)
            if (!footer.copyOfRange(8, 24).contentEquals(MAGIC)) return Signers(emptyList(), emptyList())
            val blockSize = fb.getLong(0)
            if (blockSize < 24 || blockSize > cdOffset - 8 || blockSize > MAX_BLOCK) throw IOException("bad APK signing block size")
            val blockStart = cdOffset - blockSize - 8
            val block = ByteArray((blockSize + 8).toInt())
            raf.seek(blockStart)
            raf.readFully(block)
            val bb = ByteBuffer.wrap(block).order(ByteOrder.LITTLE_ENDIAN)
            if (bb.getLong(0) != blockSize) throw IOException("APK signing block sizes differ")
            val pairs = slice(bb, 8, block.size - 32)
            var v2 = emptyList<String>()
            var v3 = emptyList<String>()
            while (pairs.hasRemaining()) {
                if (pairs.remaining() < 8) throw IOException("truncated ID-value pair")
                val pairLength = pairs.long
                if (pairLength < 4 || pairLength > pairs.remaining()) throw IOException("bad ID-value pair length")
                val id = pairs.int
                val value = slice(pairs, pairs.position(), (pairLength - 4).toInt())
                moveTo(pairs, pairs.position() + (pairLength - 4).toInt())
                if (id == V2_BLOCK_ID) v2 = signerCertificates(value)
                else if (id == V3_BLOCK_ID) v3 = signerCertificates(value)
            }
            return Signers(v2, v3)
        }
    }

    /** A v2/v3 scheme block: signers -> signer -> signed data -> (digests, certificates, ...). */
    private fun signerCertificates(block: ByteBuffer): List<String> {
        val out = ArrayList<String>()
        val signers = lengthPrefixed(block)
        while (signers.hasRemaining()) {
            val signer = lengthPrefixed(signers)
            val signedData = lengthPrefixed(signer)
            lengthPrefixed(signedData) // digests
            val certificates = lengthPrefixed(signedData)
            if (!certificates.hasRemaining()) throw IOException("signer without certificates")
            val first = lengthPrefixed(certificates)
            val der = ByteArray(first.remaining())
            first.get(der)
            out.add(hex(MessageDigest.getInstance("SHA-256").digest(der)))
        }
        if (out.isEmpty()) throw IOException("signature scheme block without signers")
        return out
    }

    private fun lengthPrefixed(source: ByteBuffer): ByteBuffer {
        if (source.remaining() < 4) throw IOException("truncated length prefix")
        val size = source.int
        if (size < 0 || size > source.remaining()) throw IOException("length prefix beyond its block")
        val out = slice(source, source.position(), size)
        moveTo(source, source.position() + size)
        return out
    }

    private fun slice(source: ByteBuffer, start: Int, size: Int): ByteBuffer {
        val dup = source.duplicate()
        moveTo(dup, start)
        (dup as Buffer).limit(start + size)
        return dup.slice().order(ByteOrder.LITTLE_ENDIAN)
    }

    /** Through Buffer: ByteBuffer.position(int) returns ByteBuffer only from Java 9, and not on every Android version. */
    private fun moveTo(buffer: ByteBuffer, position: Int) {
        (buffer as Buffer).position(position)
    }

    fun hex(bytes: ByteArray): String {
        val sb = StringBuilder(bytes.size * 2)
        for (b in bytes) {
            val v = b.toInt() and 0xff
            sb.append(HEX[v ushr 4]).append(HEX[v and 0xf])
        }
        return sb.toString()
    }

    private const val HEX = "0123456789abcdef"
    /** Signing blocks are a few KiB; this bounds what a malformed file can make the agent read. */
    private const val MAX_BLOCK = 16L shl 20
}

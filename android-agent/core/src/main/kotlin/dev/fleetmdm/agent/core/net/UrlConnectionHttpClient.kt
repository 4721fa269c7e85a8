package dev.fleetmdm.agent.core.net

import java.io.ByteArrayOutputStream
import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.HttpURLConnection
import java.net.URL
import java.nio.charset.StandardCharsets
import java.security.MessageDigest

/**
 * [HttpClient] and [Downloader] on java.net.HttpURLConnection, which the JVM and Android both have
 * (on Android it is OkHttp underneath and honours the network security config).
 */
class UrlConnectionHttpClient(
    private val connectTimeoutMs: Int = 15_000,
    private val readTimeoutMs: Int = 30_000,
    private val maxResponseBytes: Int = 1 shl 20
) : HttpClient, Downloader {

    override fun execute(request: HttpRequest): HttpResponse {
        val conn = open(request.url)
        try {
            conn.requestMethod = request.method
            conn.setRequestProperty("Accept", "application/json")
            for ((name, value) in request.headers) conn.setRequestProperty(name, value)
            val body = request.body
            if (body != null) {
                val bytes = body.toByteArray(StandardCharsets.UTF_8)
                conn.doOutput = true
                conn.setRequestProperty("Content-Type", "application/json; charset=utf-8")
                conn.setFixedLengthStreamingMode(bytes.size)
                conn.outputStream.use { it.write(bytes) }
            }
            val status = conn.responseCode
            val stream: InputStream? = if (status >= 400) conn.errorStream else conn.inputStream
            val text = if (stream == null) "" else stream.use { readBounded(it) }
            val headers = HashMap<String, String>()
            for ((name, values) in conn.headerFields) {
                if (name != null && values != null && values.isNotEmpty()) headers[name] = values[0]
            }
            return HttpResponse(status, text, headers)
        } finally {
            conn.disconnect()
        }
    }

    override fun download(url: String, dest: File, maxBytes: Long): Download {
        val conn = open(url)
        try {
            val status = conn.responseCode
            if (status !in 200..299) throw IOException("download answered HTTP $status")
            val digest = MessageDigest.getInstance("SHA-256")
            var total = 0L
            conn.inputStream.use { input ->
                FileOutputStream(dest).use { out ->
                    val buffer = ByteArray(64 * 1024)
                    while (true) {
                        val n = input.read(buffer)
                        if (n < 0) break
                        total += n
                        if (total > maxBytes) throw IOException("download is larger than $maxBytes bytes")
                        digest.update(buffer, 0, n)
                        out.write(buffer, 0, n)
                    }
                    out.fd.sync()
                }
            }
            return Download(total, hex(digest.digest()))
        } catch (e: IOException) {
            dest.delete()
            throw e
        } finally {
            conn.disconnect()
        }
    }

    private fun open(url: String): HttpURLConnection {
        val conn = URL(url).openConnection() as HttpURLConnection
        conn.connectTimeout = connectTimeoutMs
        conn.readTimeout = readTimeoutMs
        conn.instanceFollowRedirects = true
        conn.useCaches = false
        return conn
    }

    private fun readBounded(input: InputStream): String {
        val out = ByteArrayOutputStream()
        val buffer = ByteArray(8192)
        while (true) {
            val n = input.read(buffer)
            if (n < 0) break
            if (out.size() + n > maxResponseBytes) throw IOException("response larger than $maxResponseBytes bytes")
            out.write(buffer, 0, n)
        }
        return String(out.toByteArray(), StandardCharsets.UTF_8)
    }

    companion object {
        fun hex(bytes: ByteArray): String {
            val sb = StringBuilder(bytes.size * 2)
            for (b in bytes) sb.append(String.format("%02x", b))
            return sb.toString()
        }
    }
}

package dev.fleetmdm.agent.core.net

import java.io.File
import java.io.IOException
import java.util.TreeMap

class HttpRequest(val method: String, val url: String, val headers: Map<String, String>, val body: String?)

class HttpResponse(val status: Int, val body: String, headers: Map<String, String>) {
    private val headers = TreeMap<String, String>(String.CASE_INSENSITIVE_ORDER).apply { putAll(headers) }

    fun header(name: String): String? = headers[name]
}

/** JSON over HTTP(S). Throws IOException when no response came (network down, timeout, TLS). */
interface HttpClient {
    @Throws(IOException::class)
    fun execute(request: HttpRequest): HttpResponse
}

class Download(val bytes: Long, val sha256Hex: String)

/** Streams a URL to a file, hashing it on the way. */
interface Downloader {
    /** Throws IOException on network errors, a non-2xx answer, or more than [maxBytes]. */
    @Throws(IOException::class)
    fun download(url: String, dest: File, maxBytes: Long): Download
}

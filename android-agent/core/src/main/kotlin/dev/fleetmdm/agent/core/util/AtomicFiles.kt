package dev.fleetmdm.agent.core.util

import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import java.nio.charset.StandardCharsets

/** Whole-file writes that a crash or power loss leaves either old or new, never half written. */
object AtomicFiles {
    fun write(file: File, text: String) {
        val dir = file.absoluteFile.parentFile
        if (dir != null && !dir.isDirectory && !dir.mkdirs()) throw IOException("cannot create $dir")
        val tmp = File(dir, file.name + ".tmp")
        FileOutputStream(tmp).use { out ->
            out.write(text.toByteArray(StandardCharsets.UTF_8))
            out.fd.sync()
        }
        if (!tmp.renameTo(file)) {
            tmp.delete()
            throw IOException("cannot replace $file")
        }
    }

    fun read(file: File): String = String(file.readBytes(), StandardCharsets.UTF_8)
}

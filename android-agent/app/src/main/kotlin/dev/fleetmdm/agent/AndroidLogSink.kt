package dev.fleetmdm.agent

import android.util.Log
import dev.fleetmdm.agent.core.log.Level
import dev.fleetmdm.agent.core.log.LogSink
import java.io.File
import java.io.FileWriter

/** JSON lines to Logcat and to a small rotating file (files/logs/agent.log, one older file kept). */
class AndroidLogSink(private val dir: File, private val maxBytes: Long = 1L shl 20) : LogSink {
    private val file = File(dir, "agent.log")

    override fun write(level: Level, line: String) {
        val priority = when (level) {
            Level.DEBUG -> Log.DEBUG
            Level.INFO -> Log.INFO
            Level.WARN -> Log.WARN
            Level.ERROR -> Log.ERROR
        }
        Log.println(priority, TAG, line)
        synchronized(this) {
            try {
                if (!dir.isDirectory) dir.mkdirs()
                if (file.length() > maxBytes) file.renameTo(File(dir, "agent.log.1"))
                FileWriter(file, true).use { it.write(line + "\n") }
            } catch (e: java.io.IOException) {
                Log.w(TAG, "cannot write the log file: ${e.message}")
            }
        }
    }

    private companion object {
        const val TAG = "FleetMdmAgent"
    }
}

package dev.fleetmdm.agent

import android.app.Activity
import android.os.Bundle
import android.view.Gravity
import android.widget.TextView

/**
 * The home screen while the agent manages a kiosk: whenever it shows, the kiosk app has left the
 * foreground (exited, crashed, or was never started), so it starts the kiosk app again.
 */
class HomeActivity : Activity() {
    private lateinit var text: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        text = TextView(this).apply {
            gravity = Gravity.CENTER
            textSize = 18f
            setPadding(48, 48, 48, 48)
        }
        setContentView(text)
    }

    override fun onResume() {
        super.onResume()
        isShowing = true
        val runtime = AgentRuntime.get(this)
        val kiosk = runtime.settings.kioskPackage
        if (kiosk == null) {
            text.text = getString(R.string.home_no_kiosk)
            return
        }
        text.text = getString(R.string.home_starting, kiosk)
        runtime.events.add("app.relaunched", mapOf("package" to kiosk, "reason" to "home"))
        AndroidKioskApps(this, runtime.owner, runtime.log).launch(kiosk)
    }

    override fun onPause() {
        isShowing = false
        super.onPause()
    }

    companion object {
        @Volatile var isShowing = false
            private set
    }
}

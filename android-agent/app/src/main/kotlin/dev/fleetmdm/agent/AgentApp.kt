package dev.fleetmdm.agent

import android.app.Application
import android.app.NotificationChannel
import android.app.NotificationManager
import com.google.firebase.FirebaseApp
import com.google.firebase.FirebaseOptions
import com.google.firebase.messaging.FirebaseMessaging

class AgentApp : Application() {
    override fun onCreate() {
        super.onCreate()
        val runtime = AgentRuntime.get(this)
        getSystemService(NotificationManager::class.java).createNotificationChannel(
            NotificationChannel(AgentService.CHANNEL_ID, getString(R.string.channel_name), NotificationManager.IMPORTANCE_LOW)
        )
        startPush(runtime)
        // The service also reports outcomes that waited for this process (a REBOOT, the agent's own update).
        if (runtime.agent.isEnrolled()) AgentService.start(this)
        KeepAliveWorker.schedule(this)
    }

    /** FCM only when this build names a Firebase project; otherwise commands come with heartbeats. */
    private fun startPush(runtime: AgentRuntime) {
        if (BuildConfig.FCM_PROJECT_ID.isEmpty() || BuildConfig.FCM_APPLICATION_ID.isEmpty()) {
            runtime.log.info("push is not configured in this build; commands arrive with heartbeats")
            return
        }
        try {
            val options = FirebaseOptions.Builder()
                .setProjectId(BuildConfig.FCM_PROJECT_ID)
                .setApplicationId(BuildConfig.FCM_APPLICATION_ID)
                .setApiKey(BuildConfig.FCM_API_KEY)
                .setGcmSenderId(BuildConfig.FCM_SENDER_ID)
                .build()
            if (FirebaseApp.getApps(this).isEmpty()) FirebaseApp.initializeApp(this, options)
            val messaging = FirebaseMessaging.getInstance()
            messaging.isAutoInitEnabled = true
            messaging.token
                .addOnSuccessListener { token -> runtime.onFcmToken(token) }
                .addOnFailureListener { e -> runtime.log.warn("no FCM token", "error" to e.message) }
        } catch (e: RuntimeException) {
            runtime.log.error("FCM could not start; commands arrive with heartbeats", e)
        }
    }
}

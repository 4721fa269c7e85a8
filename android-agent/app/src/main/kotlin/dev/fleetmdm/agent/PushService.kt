package dev.fleetmdm.agent

import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import dev.fleetmdm.agent.core.command.Verdict

/**
 * FCM data messages are signed command envelopes: verified and run exactly like the commands of a
 * heartbeat answer (the replay store runs each once, whichever way it came first).
 */
class PushService : FirebaseMessagingService() {
    override fun onMessageReceived(message: RemoteMessage) {
        val runtime = AgentRuntime.get(this)
        val verdict = runtime.agent.onPush(message.data)
        if (verdict is Verdict.Accepted) runtime.log.info("push command accepted", "cid" to verdict.envelope.cid)
    }

    override fun onNewToken(token: String) {
        AgentRuntime.get(this).onFcmToken(token)
    }
}

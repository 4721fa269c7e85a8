package dev.fleetmdm.agent

import android.app.Activity
import android.app.admin.DevicePolicyManager
import android.content.Intent
import android.os.Bundle
import dev.fleetmdm.agent.core.security.EnrollSource

/**
 * QR provisioning on Android 10+: the setup wizard asks which mode the DPC wants (fully managed
 * device) and then opens the policy compliance screen with the QR code's admin extras bundle.
 */
class ProvisioningModeActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val result = Intent().putExtra(DevicePolicyManager.EXTRA_PROVISIONING_MODE, DevicePolicyManager.PROVISIONING_MODE_FULLY_MANAGED_DEVICE)
        setResult(RESULT_OK, result)
        finish()
    }
}

class PolicyComplianceActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val runtime = AgentRuntime.get(this)
        runtime.owner.grantOwnPermissions()
        Enrollment.request(this, AdminReceiver.adminExtras(intent), EnrollSource.PROVISIONING)
        setResult(RESULT_OK)
        finish()
    }
}

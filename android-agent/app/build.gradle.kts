import java.util.Properties

plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

fun setting(name: String): String = (findProperty(name) as String?)?.trim().orEmpty()

/**
 * The version: AGENT_VERSION_CODE / AGENT_VERSION_NAME from the environment (CI sets them from the
 * run number and the tag), else -Pfleetmdm.versionCode / -Pfleetmdm.versionName, else
 * gradle.properties (the defaults for local builds).
 */
fun versionSetting(env: String, property: String): String = System.getenv(env)?.trim()?.ifEmpty { null } ?: setting(property)
val agentVersionCode: Int = versionSetting("AGENT_VERSION_CODE", "fleetmdm.versionCode").let { raw ->
    raw.toIntOrNull()?.takeIf { it in 1..2_100_000_000 }
        ?: throw GradleException("the versionCode (AGENT_VERSION_CODE or fleetmdm.versionCode) must be a whole number from 1 to 2100000000, got '$raw'")
}
val agentVersionName: String = versionSetting("AGENT_VERSION_NAME", "fleetmdm.versionName").ifEmpty { "0.0.0" }

/** Release signing from the environment (CI secrets) or keystore.properties; unsigned when absent. */
val keystoreProperties = Properties().apply {
    val file = rootProject.file("keystore.properties")
    if (file.isFile) file.inputStream().use { load(it) }
}
fun signingValue(env: String, key: String): String? = System.getenv(env)?.ifEmpty { null } ?: keystoreProperties.getProperty(key)
val releaseStoreFile = signingValue("AGENT_KEYSTORE_FILE", "storeFile")

android {
    namespace = "dev.fleetmdm.agent"
    compileSdk = 36

    defaultConfig {
        // The server's ADB script and docs name this package (AGENT_PACKAGE, default dev.fleetmdm.agent).
        applicationId = "dev.fleetmdm.agent"
        minSdk = 26
        targetSdk = 36
        versionCode = agentVersionCode
        versionName = agentVersionName
        buildConfigField("String", "FCM_PROJECT_ID", "\"${setting("fleetmdm.fcm.projectId")}\"")
        buildConfigField("String", "FCM_APPLICATION_ID", "\"${setting("fleetmdm.fcm.applicationId")}\"")
        buildConfigField("String", "FCM_API_KEY", "\"${setting("fleetmdm.fcm.apiKey")}\"")
        buildConfigField("String", "FCM_SENDER_ID", "\"${setting("fleetmdm.fcm.senderId")}\"")
        // http:// server URLs for every enrollment of this build (default false: only an enrollment's
        // own allow_cleartext=true extra allows them). See core's ServerUrlPolicy.
        buildConfigField("boolean", "ALLOW_CLEARTEXT", (setting("fleetmdm.allowCleartext") == "true").toString())
    }

    signingConfigs {
        releaseStoreFile?.let { path ->
            create("release") {
                storeFile = file(path)
                storePassword = signingValue("AGENT_KEYSTORE_PASSWORD", "storePassword")
                keyAlias = signingValue("AGENT_KEY_ALIAS", "keyAlias")
                keyPassword = signingValue("AGENT_KEY_PASSWORD", "keyPassword")
                enableV2Signing = true
                enableV3Signing = true
            }
        }
    }

    buildTypes {
        release {
            // Not minified: the agent is small, Gson reads the protocol models by reflection, and
            // an R8 rule missed here would only show on a device.
            isMinifyEnabled = false
            if (releaseStoreFile != null) signingConfig = signingConfigs.getByName("release")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        buildConfig = true
    }

    lint {
        abortOnError = true
        warningsAsErrors = false
        // The agent is a Device Owner kiosk app, not a Play Store app.
        disable += setOf("ExpiredTargetSdkVersion", "QueryAllPackagesPermission", "ProtectedPermissions")
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(project(":core"))
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.work.runtime.ktx)
    implementation(platform(libs.firebase.bom))
    implementation(libs.firebase.messaging)
}

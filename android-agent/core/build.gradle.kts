// Pure Kotlin, no Android: the protocol logic the app runs, tested on the JVM. The same sources
// also compile with Debian's kotlinc 1.3 (core/test.sh), so they keep to the Kotlin 1.3 language
// and standard library.
plugins {
    `java-library`
    alias(libs.plugins.kotlin.jvm)
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // Gson types (JsonObject params) are part of the core's API.
    api(libs.gson)
    testImplementation(platform(libs.junit.bom))
    testImplementation(libs.junit.jupiter)
    testRuntimeOnly(libs.junit.platform.launcher)
}

tasks.test {
    useJUnitPlatform()
    // The live server test runs when MDM_TEST_URL (and the admin credentials) are in the environment.
    testLogging {
        events("failed", "skipped")
        exceptionFormat = org.gradle.api.tasks.testing.logging.TestExceptionFormat.FULL
    }
}

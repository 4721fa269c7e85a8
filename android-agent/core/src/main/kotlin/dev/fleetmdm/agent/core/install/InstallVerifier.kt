package dev.fleetmdm.agent.core.install

import dev.fleetmdm.agent.core.command.Params
import dev.fleetmdm.agent.core.command.StandardExecutors
import dev.fleetmdm.agent.core.util.Ascii

/**
 * INSTALL_APK's params: `{releaseId?, url, sha256, signerSha256, packageName, versionCode,
 * allowDowngrade?}`. `sha256` is the APK file's, `signerSha256` the signing certificate's
 * (apksigner's "certificate SHA-256 digest"), both hex; kept lowercase here.
 */
class InstallParams(
    val releaseId: String?,
    val url: String,
    val sha256: String,
    val signerSha256: String,
    val packageName: String,
    val versionCode: Long,
    val allowDowngrade: Boolean
) {
    companion object {
        private val SHA256_HEX = Regex("^[0-9a-fA-F]{64}$")

        /** The params, or the reason they are not acceptable (nothing is downloaded then). */
        fun parse(params: Params): Any {
            val url = params.string("url")
            val sha256 = params.string("sha256")
            val signer = params.string("signerSha256")?.replace(":", "")
            val pkg = params.string("packageName")
            val versionCode = params.wholeNumber("versionCode")
            val releaseId = params.string("releaseId")
            if (url == null || !StandardExecutors.isHttpsUrl(url)) return "params.url must be an https URL"
            if (sha256 == null || !SHA256_HEX.matches(sha256)) return "params.sha256 must be 64 hex digits"
            if (signer == null || !SHA256_HEX.matches(signer)) return "params.signerSha256 must be the signing certificate's SHA-256 (64 hex digits)"
            if (pkg == null || !StandardExecutors.isPackageName(pkg)) return "params.packageName must be an Android package name"
            if (versionCode == null || versionCode < 1 || versionCode > StandardExecutors.MAX_VERSION_CODE) {
                return "params.versionCode must be a positive integer"
            }
            if (params.has("releaseId") && (releaseId == null || releaseId.length > 100)) return "params.releaseId must be a string"
            if (params.has("allowDowngrade") && params.boolean("allowDowngrade") == null) return "params.allowDowngrade must be a boolean"
            return InstallParams(releaseId, url, Ascii.lower(sha256), Ascii.lower(signer), pkg, versionCode, params.boolean("allowDowngrade") == true)
        }
    }
}

/** What the package manager reads from a downloaded archive. */
class ApkFacts(val packageName: String, val versionCode: Long, val versionName: String?, val signerSha256: List<String>)

/** An installed package, as the package manager reports it (the current signers' certificate digests). */
class InstalledPackage(val versionCode: Long, val versionName: String?, val signerSha256: List<String>)

sealed class InstallVerdict {
    object Proceed : InstallVerdict()

    /** The exact release is installed already: nothing to do, and a success. */
    class AlreadyInstalled(val detail: String) : InstallVerdict()

    class Refuse(val reason: String) : InstallVerdict()
}

/**
 * Every check between a download and the package installer, and the check after it. The agent
 * installs only the file the signed command named (sha256), of the package and version it named,
 * signed by the key it named - read both from the APK's signing block ([ApkSignatures]) and from
 * the package manager's parse - and never a lower version than installed unless the command says
 * `allowDowngrade: true`.
 */
object InstallVerifier {
    fun verify(
        params: InstallParams,
        downloadedSha256: String,
        facts: ApkFacts?,
        signingBlock: ApkSignatures.Signers?,
        signingBlockError: String?,
        installed: InstalledPackage?
    ): InstallVerdict {
        if (Ascii.lower(downloadedSha256) != params.sha256) {
            return InstallVerdict.Refuse("sha256 mismatch: expected ${params.sha256}, downloaded ${Ascii.lower(downloadedSha256)}")
        }
        if (facts == null) return InstallVerdict.Refuse("the download is not an APK the package manager can read")
        if (facts.packageName != params.packageName) {
            return InstallVerdict.Refuse("the APK is ${facts.packageName}, the command named ${params.packageName}")
        }
        if (facts.versionCode != params.versionCode) {
            return InstallVerdict.Refuse("the APK has versionCode ${facts.versionCode}, the command named ${params.versionCode}")
        }
        if (signingBlock == null) return InstallVerdict.Refuse("unreadable APK signing block: ${signingBlockError ?: "unknown error"}")
        if (!signingBlock.hasBlock) return InstallVerdict.Refuse("the APK has no APK Signature Scheme v2/v3 block")
        val blockSigners = signingBlock.all().map { Ascii.lower(it) }
        if (blockSigners.any { it != params.signerSha256 }) {
            return InstallVerdict.Refuse("signer mismatch: expected ${params.signerSha256}, the APK is signed by ${blockSigners.distinct().joinToString(",")}")
        }
        val pmSigners = facts.signerSha256.map { Ascii.lower(it) }
        if (pmSigners.isEmpty() || pmSigners.any { it != params.signerSha256 }) {
            return InstallVerdict.Refuse("signer mismatch: the package manager reads ${if (pmSigners.isEmpty()) "no signer" else pmSigners.distinct().joinToString(",")}")
        }
        if (installed != null) {
            val installedSigners = installed.signerSha256.map { Ascii.lower(it) }
            if (installedSigners.isNotEmpty() && !installedSigners.contains(params.signerSha256)) {
                return InstallVerdict.Refuse("the installed ${params.packageName} is signed by another key (${installedSigners.joinToString(",")}); Android would refuse the update")
            }
            if (installed.versionCode == params.versionCode) {
                return InstallVerdict.AlreadyInstalled("${params.packageName} ${installed.versionName ?: ""} (${installed.versionCode}) is installed already")
            }
            if (installed.versionCode > params.versionCode && !params.allowDowngrade) {
                return InstallVerdict.Refuse("downgrade refused: ${params.packageName} ${installed.versionCode} is installed, the command names ${params.versionCode} (set allowDowngrade to force)")
            }
        }
        return InstallVerdict.Proceed
    }

    /** After the package installer said success: the package manager must report the new version, by the same key. Null when it does. */
    fun confirm(params: InstallParams, after: InstalledPackage?): String? {
        if (after == null) return "the package manager does not list ${params.packageName} after the install"
        if (after.versionCode != params.versionCode) return "the package manager reports ${params.packageName} ${after.versionCode}, not ${params.versionCode}"
        val signers = after.signerSha256.map { Ascii.lower(it) }
        if (signers.isNotEmpty() && !signers.contains(params.signerSha256)) return "the installed ${params.packageName} is signed by ${signers.joinToString(",")}"
        return null
    }
}

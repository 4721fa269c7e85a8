/**
 * Ready-to-run enrollment scripts for a provisioning station (Linux/macOS `sh`, Windows PowerShell).
 * Each checks that exactly one device is connected and that it has no accounts, installs the agent,
 * makes it device owner and hands it the server URL and the enrollment token. The token is an
 * argument, not part of the script: the server keeps only its hash, so it cannot print it again.
 */
export interface AdbScriptInput {
  serverUrl: string;
  agentPackage: string;
  adminReceiver: string;
  tokenId: string;
  label: string;
  expiresAt: Date;
}

/** The explicit component the agent's enrollment intent goes to; the agent (android-agent/) declares it. */
export const ENROLL_RECEIVER = '.EnrollReceiver';
export const ENROLL_ACTION_SUFFIX = '.action.ENROLL';

/** For PowerShell: \\z, because in .NET a $ also matches before a trailing newline. */
const PS_TOKEN_RE = '^mdmet_[A-Za-z0-9_-]{43}\\z';

export function adminComponent(agentPackage: string, receiver: string): string {
  if (receiver.startsWith('.')) return `${agentPackage}/${receiver}`;
  return `${agentPackage}/${receiver.startsWith(`${agentPackage}.`) ? receiver.slice(agentPackage.length) : receiver}`;
}

/** Single-quoted for POSIX sh: nothing inside is expanded. */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Single-quoted for PowerShell: quotes are doubled. */
const psQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;
/** Comments must not be able to end the comment line. */
const oneLine = (s: string) => s.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[^\x20-\x7e\u00a0-\uffff]/g, '');

export function shScript(i: AdbScriptInput): string {
  const component = adminComponent(i.agentPackage, i.adminReceiver);
  return `#!/bin/sh
# Fleet MDM: enroll one Android device as a managed kiosk (Linux / macOS).
# Enrollment token ${i.tokenId} (${oneLine(i.label) || 'no label'}), valid until ${i.expiresAt.toISOString()}.
#
#   usage: sh enroll.sh <enrollment-token>        (or MDM_ENROLLMENT_TOKEN=<token> sh enroll.sh)
#
# The token was shown once when it was created; each token enrolls one device.
# Needs adb (Android platform-tools) and curl, and one factory-reset device with USB debugging on.
# MDM_AGENT_APK=/path/agent.apk installs that file instead of downloading the agent from the server.
set -eu

SERVER_URL=${shQuote(i.serverUrl)}
AGENT_PACKAGE=${shQuote(i.agentPackage)}
ADMIN_COMPONENT=${shQuote(component)}
TOKEN="\${1:-\${MDM_ENROLLMENT_TOKEN:-}}"

fail() { echo "enroll: error: $*" >&2; exit 1; }

[ -n "$TOKEN" ] || fail "pass the enrollment token as the first argument (it was shown once when it was created)"
# Checked without grep, which would pass a token followed by a second line of shell for the device.
case "$TOKEN" in
  mdmet_*) ;;
  *) fail "that is not an enrollment token (they look like mdmet_ followed by 43 characters)" ;;
esac
case "\${TOKEN#mdmet_}" in
  *[!A-Za-z0-9_-]*) fail "that is not an enrollment token (they look like mdmet_ followed by 43 characters)" ;;
esac
[ "\${#TOKEN}" -eq 49 ] || fail "that is not an enrollment token (they look like mdmet_ followed by 43 characters)"
command -v adb >/dev/null 2>&1 || fail "adb not found: install Android platform-tools and put adb on PATH"

serials=$(adb devices | tr -d '\\r' | awk 'NR > 1 && $2 == "device" { print $1 }')
count=$(printf '%s\\n' "$serials" | grep -c . || true)
if [ -n "\${ANDROID_SERIAL:-}" ]; then
  printf '%s\\n' "$serials" | grep -qxF -- "$ANDROID_SERIAL" || fail "adb does not see the device ANDROID_SERIAL=$ANDROID_SERIAL"
elif [ "$count" -eq 0 ]; then
  fail "adb sees no device: connect one by USB, enable USB debugging and accept the prompt ('adb devices' must list it as 'device')"
elif [ "$count" -gt 1 ]; then
  fail "adb sees $count devices: set ANDROID_SERIAL to the one to enroll"
fi

accounts=$(adb shell dumpsys account | tr -d '\\r' | sed -n 's/^[[:space:]]*Accounts:[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p' | head -n 1)
if [ "\${accounts:-0}" -gt 0 ]; then
  fail "the device has $accounts account(s); Android sets a device owner only on a device without accounts: factory-reset it (or remove every account in Settings > Accounts) and run this again"
fi

if [ -n "\${MDM_AGENT_APK:-}" ]; then
  APK="$MDM_AGENT_APK"
  [ -f "$APK" ] || fail "MDM_AGENT_APK=$APK is not a file"
else
  command -v curl >/dev/null 2>&1 || fail "curl not found (or set MDM_AGENT_APK to a downloaded agent APK)"
  APK="\${TMPDIR:-/tmp}/fleet-mdm-agent.apk"
  echo "Downloading the agent from $SERVER_URL ..."
  curl -fsSL -o "$APK" "$SERVER_URL/api/v1/apk/latest" || fail "could not download the agent from $SERVER_URL/api/v1/apk/latest"
fi

echo "Installing the agent ..."
adb install -r -g "$APK" || fail "adb install failed"

echo "Making the agent the device owner ..."
owner=$(adb shell dpm set-device-owner "$ADMIN_COMPONENT" 2>&1 | tr -d '\\r' || true)
case "$owner" in
  *Success*) ;;
  *) fail "dpm set-device-owner failed: $owner" ;;
esac

echo "Handing the agent the server URL and enrollment token ..."
adb shell am broadcast -a "$AGENT_PACKAGE${ENROLL_ACTION_SUFFIX}" -n "$AGENT_PACKAGE/${ENROLL_RECEIVER}" \\
  --es server_url "'$SERVER_URL'" --es enrollment_token "$TOKEN" >/dev/null || fail "could not start enrollment on the device"

echo "Done: the device enrolls now and shows in the console with its first heartbeat."
`;
}

export function ps1Script(i: AdbScriptInput): string {
  const component = adminComponent(i.agentPackage, i.adminReceiver);
  return `# Fleet MDM: enroll one Android device as a managed kiosk (Windows PowerShell).
# Enrollment token ${i.tokenId} (${oneLine(i.label) || 'no label'}), valid until ${i.expiresAt.toISOString()}.
#
#   usage: powershell -ExecutionPolicy Bypass -File enroll.ps1 <enrollment-token>
#          (or set $env:MDM_ENROLLMENT_TOKEN first)
#
# The token was shown once when it was created; each token enrolls one device.
# Needs adb (Android platform-tools) on PATH and one factory-reset device with USB debugging on.
# $env:MDM_AGENT_APK = 'C:\\path\\agent.apk' installs that file instead of downloading the agent.
param([string]$Token = $env:MDM_ENROLLMENT_TOKEN)
$ErrorActionPreference = 'Stop'

$ServerUrl = ${psQuote(i.serverUrl)}
$AgentPackage = ${psQuote(i.agentPackage)}
$AdminComponent = ${psQuote(component)}

function Fail([string]$Message) {
  [Console]::Error.WriteLine("enroll: error: $Message")
  exit 1
}

if (-not $Token) { Fail 'pass the enrollment token as the first argument (it was shown once when it was created)' }
if ($Token -cnotmatch '${PS_TOKEN_RE}') { Fail 'that is not an enrollment token (they look like mdmet_ followed by 43 characters)' }
if (-not (Get-Command adb -ErrorAction SilentlyContinue)) { Fail 'adb not found: install Android platform-tools and put adb on PATH' }

$serials = @(adb devices | Select-Object -Skip 1 | ForEach-Object { $_.Trim() } | Where-Object { $_ -match '^\\S+\\s+device$' } | ForEach-Object { ($_ -split '\\s+')[0] })
if ($env:ANDROID_SERIAL) {
  if ($serials -notcontains $env:ANDROID_SERIAL) { Fail "adb does not see the device ANDROID_SERIAL=$($env:ANDROID_SERIAL)" }
} elseif ($serials.Count -eq 0) {
  Fail "adb sees no device: connect one by USB, enable USB debugging and accept the prompt ('adb devices' must list it as 'device')"
} elseif ($serials.Count -gt 1) {
  Fail "adb sees $($serials.Count) devices: set ANDROID_SERIAL to the one to enroll"
}

$accountDump = (adb shell dumpsys account) -join "\`n"
if ($accountDump -match 'Accounts:\\s*(\\d+)' -and [int]$Matches[1] -gt 0) {
  Fail "the device has $($Matches[1]) account(s); Android sets a device owner only on a device without accounts: factory-reset it (or remove every account in Settings > Accounts) and run this again"
}

if ($env:MDM_AGENT_APK) {
  $apk = $env:MDM_AGENT_APK
  if (-not (Test-Path -PathType Leaf $apk)) { Fail "MDM_AGENT_APK=$apk is not a file" }
} else {
  $apk = Join-Path ([IO.Path]::GetTempPath()) 'fleet-mdm-agent.apk'
  Write-Host "Downloading the agent from $ServerUrl ..."
  try { Invoke-WebRequest -UseBasicParsing -Uri "$ServerUrl/api/v1/apk/latest" -OutFile $apk }
  catch { Fail "could not download the agent from $ServerUrl/api/v1/apk/latest: $($_.Exception.Message)" }
}

Write-Host 'Installing the agent ...'
adb install -r -g $apk
if ($LASTEXITCODE -ne 0) { Fail 'adb install failed' }

Write-Host 'Making the agent the device owner ...'
$owner = (adb shell dpm set-device-owner $AdminComponent 2>&1) -join "\`n"
if ($owner -notmatch 'Success') { Fail "dpm set-device-owner failed: $owner" }

Write-Host 'Handing the agent the server URL and enrollment token ...'
adb shell am broadcast -a "$AgentPackage${ENROLL_ACTION_SUFFIX}" -n "$AgentPackage/${ENROLL_RECEIVER}" --es server_url "'$ServerUrl'" --es enrollment_token $Token | Out-Null
if ($LASTEXITCODE -ne 0) { Fail 'could not start enrollment on the device' }

Write-Host 'Done: the device enrolls now and shows in the console with its first heartbeat.'
`;
}

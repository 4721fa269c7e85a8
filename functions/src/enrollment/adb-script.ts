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

/** True when a device could not reach the server at this URL (it names the device itself). */
export function isLocalUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\./.test(host) || host === '0.0.0.0';
}

const LOCAL_WARNING =
  'warning: the server URL is $SERVER_URL: on the device, localhost is the device itself, so it cannot reach this server; set PUBLIC_URL to an address the devices can reach and download the script again';

export function shScript(i: AdbScriptInput): string {
  const component = adminComponent(i.agentPackage, i.adminReceiver);
  const LOCALHOST_WARNING = isLocalUrl(i.serverUrl) ? `echo "enroll: ${LOCAL_WARNING}" >&2` : '';
  return `#!/bin/sh
# Fleet MDM: enroll one Android device as a managed kiosk (Linux / macOS).
# Enrollment token ${i.tokenId} (${oneLine(i.label) || 'no label'}), valid until ${i.expiresAt.toISOString()}.
#
#   usage: sh enroll.sh <enrollment-token>        (or MDM_ENROLLMENT_TOKEN=<token> sh enroll.sh)
#
# The token was shown once when it was created; each token enrolls one device.
# Needs adb (Android platform-tools) and curl, and one factory-reset device with USB debugging on.
# MDM_AGENT_APK=/path/agent.apk installs that file instead of downloading the agent from the server
# (MDM_AGENT_APK_SHA256=<hex> checks it first; a downloaded agent is always checked against the sha256
# the server announces). An http:// server URL is refused unless MDM_ALLOW_CLEARTEXT=1 (lab use only).
set -eu

SERVER_URL=${shQuote(i.serverUrl)}
AGENT_PACKAGE=${shQuote(i.agentPackage)}
ADMIN_COMPONENT=${shQuote(component)}
TOKEN="\${1:-\${MDM_ENROLLMENT_TOKEN:-}}"

fail() { echo "enroll: error: $*" >&2; exit 1; }
sha256_of() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi; }
${LOCALHOST_WARNING}
CLEARTEXT=""
case "$SERVER_URL" in
  http://*)
    [ "\${MDM_ALLOW_CLEARTEXT:-}" = 1 ] || fail "the server URL $SERVER_URL is http://: the agent refuses cleartext; use https, or set MDM_ALLOW_CLEARTEXT=1 for a lab server"
    CLEARTEXT=1 ;;
esac

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
  EXPECTED_SHA256="\${MDM_AGENT_APK_SHA256:-}"
else
  command -v curl >/dev/null 2>&1 || fail "curl not found (or set MDM_AGENT_APK to a downloaded agent APK)"
  APK="\${TMPDIR:-/tmp}/fleet-mdm-agent.apk"
  HEADERS="\${TMPDIR:-/tmp}/fleet-mdm-agent.headers"
  echo "Downloading the agent from $SERVER_URL ..."
  curl -fsSL -D "$HEADERS" -o "$APK" "$SERVER_URL/api/v1/apk/latest" || fail "could not download the agent from $SERVER_URL/api/v1/apk/latest"
  EXPECTED_SHA256=$(tr -d '\\r' < "$HEADERS" | sed -n 's/^[Xx]-[Aa][Pp][Kk]-[Ss][Hh][Aa]256:[[:space:]]*//p' | head -n 1)
  [ -n "$EXPECTED_SHA256" ] || fail "the server did not announce the agent's sha256 (x-apk-sha256)"
fi
if [ -n "$EXPECTED_SHA256" ]; then
  actual=$(sha256_of "$APK")
  [ "$actual" = "$(printf '%s' "$EXPECTED_SHA256" | tr 'A-F' 'a-f')" ] || fail "the agent's sha256 is $actual, not $EXPECTED_SHA256: not installing it"
fi

echo "Installing the agent ..."
adb install -r -g "$APK" || fail "adb install failed"

echo "Making the agent the device owner ..."
owner=$(adb shell dpm set-device-owner "$ADMIN_COMPONENT" 2>&1 | tr -d '\\r' || true)
case "$owner" in
  *Success*) ;;
  *) fail "dpm set-device-owner failed: $owner" ;;
esac

echo "Granting the agent usage access (to see the kiosk app in front) and exact alarms ..."
appops=$(adb shell appops set "$AGENT_PACKAGE" GET_USAGE_STATS allow 2>&1) || fail "could not grant usage access to the agent: $appops"
adb shell appops set "$AGENT_PACKAGE" SCHEDULE_EXACT_ALARM allow >/dev/null 2>&1 || true

echo "Handing the agent the server URL and enrollment token ..."
if [ -n "$CLEARTEXT" ]; then
  result=$(adb shell am broadcast -a "$AGENT_PACKAGE${ENROLL_ACTION_SUFFIX}" -n "$AGENT_PACKAGE/${ENROLL_RECEIVER}" \\
    --es server_url "'$SERVER_URL'" --es enrollment_token "$TOKEN" --ez allow_cleartext true | tr -d '\\r') || fail "could not start enrollment on the device"
else
  result=$(adb shell am broadcast -a "$AGENT_PACKAGE${ENROLL_ACTION_SUFFIX}" -n "$AGENT_PACKAGE/${ENROLL_RECEIVER}" \\
    --es server_url "'$SERVER_URL'" --es enrollment_token "$TOKEN" | tr -d '\\r') || fail "could not start enrollment on the device"
fi
case "$result" in
  *"result=-1"*) ;;
  *) fail "the agent did not accept the enrollment (is it the device owner, and not enrolled already?): $result" ;;
esac

echo "Done: the device enrolls now and shows in the console with its first heartbeat."
`;
}

export function ps1Script(i: AdbScriptInput): string {
  const component = adminComponent(i.agentPackage, i.adminReceiver);
  const LOCALHOST_WARNING_PS = isLocalUrl(i.serverUrl)
    ? `[Console]::Error.WriteLine("enroll: ${LOCAL_WARNING.replace('$SERVER_URL', '$ServerUrl')}")`
    : '';
  return `# Fleet MDM: enroll one Android device as a managed kiosk (Windows PowerShell).
# Enrollment token ${i.tokenId} (${oneLine(i.label) || 'no label'}), valid until ${i.expiresAt.toISOString()}.
#
#   usage: powershell -ExecutionPolicy Bypass -File enroll.ps1 <enrollment-token>
#          (or set $env:MDM_ENROLLMENT_TOKEN first)
#
# The token was shown once when it was created; each token enrolls one device.
# Needs adb (Android platform-tools) on PATH and one factory-reset device with USB debugging on.
# $env:MDM_AGENT_APK = 'C:\\path\\agent.apk' installs that file instead of downloading the agent
# ($env:MDM_AGENT_APK_SHA256 checks it first; a downloaded agent is always checked against the sha256 the
# server announces). An http:// server URL is refused unless $env:MDM_ALLOW_CLEARTEXT = '1' (lab use only).
param([string]$Token = $env:MDM_ENROLLMENT_TOKEN)
$ErrorActionPreference = 'Stop'

$ServerUrl = ${psQuote(i.serverUrl)}
$AgentPackage = ${psQuote(i.agentPackage)}
$AdminComponent = ${psQuote(component)}

function Fail([string]$Message) {
  [Console]::Error.WriteLine("enroll: error: $Message")
  exit 1
}

${LOCALHOST_WARNING_PS}
$Cleartext = $ServerUrl.StartsWith('http://')
if ($Cleartext -and $env:MDM_ALLOW_CLEARTEXT -ne '1') {
  Fail "the server URL $ServerUrl is http://: the agent refuses cleartext; use https, or set MDM_ALLOW_CLEARTEXT=1 for a lab server"
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
  $expected = $env:MDM_AGENT_APK_SHA256
} else {
  $apk = Join-Path ([IO.Path]::GetTempPath()) 'fleet-mdm-agent.apk'
  Write-Host "Downloading the agent from $ServerUrl ..."
  try { $download = Invoke-WebRequest -UseBasicParsing -Uri "$ServerUrl/api/v1/apk/latest" -OutFile $apk -PassThru }
  catch { Fail "could not download the agent from $ServerUrl/api/v1/apk/latest: $($_.Exception.Message)" }
  $expected = [string]$download.Headers['x-apk-sha256']
  if (-not $expected) { Fail "the server did not announce the agent's sha256 (x-apk-sha256)" }
}
if ($expected) {
  $actual = (Get-FileHash -Algorithm SHA256 -Path $apk).Hash.ToLowerInvariant()
  if ($actual -ne $expected.ToLowerInvariant()) { Fail "the agent's sha256 is $actual, not $($expected): not installing it" }
}

Write-Host 'Installing the agent ...'
adb install -r -g $apk
if ($LASTEXITCODE -ne 0) { Fail 'adb install failed' }

Write-Host 'Making the agent the device owner ...'
$owner = (adb shell dpm set-device-owner $AdminComponent 2>&1) -join "\`n"
if ($owner -notmatch 'Success') { Fail "dpm set-device-owner failed: $owner" }

Write-Host 'Granting the agent usage access (to see the kiosk app in front) and exact alarms ...'
adb shell appops set $AgentPackage GET_USAGE_STATS allow
if ($LASTEXITCODE -ne 0) { Fail 'could not grant usage access to the agent' }
adb shell appops set $AgentPackage SCHEDULE_EXACT_ALARM allow 2>&1 | Out-Null

Write-Host 'Handing the agent the server URL and enrollment token ...'
$extra = @()
if ($Cleartext) { $extra = @('--ez', 'allow_cleartext', 'true') }
$result = (adb shell am broadcast -a "$AgentPackage${ENROLL_ACTION_SUFFIX}" -n "$AgentPackage/${ENROLL_RECEIVER}" --es server_url "'$ServerUrl'" --es enrollment_token $Token @extra) -join "\`n"
if ($LASTEXITCODE -ne 0) { Fail 'could not start enrollment on the device' }
if ($result -notmatch 'result=-1') { Fail "the agent did not accept the enrollment (is it the device owner, and not enrolled already?): $result" }

Write-Host 'Done: the device enrolls now and shows in the console with its first heartbeat.'
`;
}

#!/usr/bin/env bash
# End-to-end check of the agent on an Android emulator against a Fleet MDM server, run by the
# `emulator` job of .github/workflows/android.yml (inside reactivecircus/android-emulator-runner,
# which runs each line of its script on its own - hence this file). It runs only on GitHub: there
# is no emulator on the development machines.
#
#   MDM_URL (host side, default http://127.0.0.1:8080), MDM_DEVICE_URL (as the emulator sees the
#   host, default http://10.0.2.2:8080), MDM_ADMIN_EMAIL, MDM_ADMIN_PASSWORD, AGENT_APK.
#
# Installs the debug APK, makes it Device Owner, enrolls it over adb exactly as the server's ADB
# script does (plus allow_cleartext, since the emulator reaches the host over http), then checks
# through the admin API: the device enrolled, a heartbeat arrived, the home screen is in lock task,
# and a PING went round trip (command status succeeded).
set -euo pipefail

MDM_URL=${MDM_URL:-http://127.0.0.1:8080}
MDM_DEVICE_URL=${MDM_DEVICE_URL:-http://10.0.2.2:8080}
APK=${AGENT_APK:-android-agent/app/build/outputs/apk/debug/app-debug.apk}
PKG=dev.fleetmdm.agent
: "${MDM_ADMIN_EMAIL:?}" "${MDM_ADMIN_PASSWORD:?}"

# On any failure: the agent's log lines and crashes from the device, while it still exists.
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "::group::device log (FleetMdmAgent, crashes)"
    adb logcat -d -s FleetMdmAgent:V AndroidRuntime:E ActivityTaskManager:W 2>/dev/null | tail -n 300 || true
    echo "::endgroup::"
  fi
}
trap on_exit EXIT

step() { echo "::group::$*"; }
end() { echo "::endgroup::"; }
fail() { echo "::error::$*"; exit 1; }
# poll <seconds> <description> <command...>: runs the command every 3 s until it succeeds.
poll() {
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for: $what"
    sleep 3
  done
}
api() { # api METHOD PATH [JSON]
  local body=${3:-}
  if [ -n "$body" ]; then
    curl -sS -f -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' --data "$body" "$MDM_URL$2"
  else
    curl -sS -f -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN" "$MDM_URL$2"
  fi
}

step "device"
adb wait-for-device
poll 300 "the emulator to finish booting" sh -c '[ "$(adb shell getprop sys.boot_completed | tr -d "\r")" = 1 ]'
adb shell getprop ro.build.version.sdk
end

step "install and make Device Owner"
adb install -r -g "$APK"
owner=$(adb shell dpm set-device-owner "$PKG/.AdminReceiver" 2>&1 | tr -d '\r' || true)
echo "$owner"
case "$owner" in *Success*) ;; *) fail "dpm set-device-owner failed: $owner" ;; esac
# What the server's ADB script should also run: usage access for the watchdog, exact alarms for the heartbeat.
adb shell appops set "$PKG" GET_USAGE_STATS allow
adb shell appops set "$PKG" SCHEDULE_EXACT_ALARM allow || echo "SCHEDULE_EXACT_ALARM appop not settable here; inexact alarms then"
end

step "enroll"
login=$(jq -n --arg email "$MDM_ADMIN_EMAIL" --arg password "$MDM_ADMIN_PASSWORD" '{email: $email, password: $password}')
ADMIN_TOKEN=$(curl -sS -f -H 'Content-Type: application/json' --data "$login" "$MDM_URL/api/v1/admin/login" | jq -r .token)
[ -n "$ADMIN_TOKEN" ] && [ "$ADMIN_TOKEN" != null ] || fail "admin login failed"
ENROLL_TOKEN=$(api POST /api/v1/admin/enrollment-tokens '{"label":"ci emulator"}' | jq -r .token)
case "$ENROLL_TOKEN" in mdmet_*) ;; *) fail "no enrollment token: $ENROLL_TOKEN" ;; esac
# A third-party app cannot send this (EnrollReceiver requires android.permission.DUMP); the shell can.
result=$(adb shell am broadcast -a "$PKG.action.ENROLL" -n "$PKG/.EnrollReceiver" \
  --es server_url "$MDM_DEVICE_URL" --es enrollment_token "$ENROLL_TOKEN" --ez allow_cleartext true | tr -d '\r')
echo "$result"
case "$result" in *"result=-1"*) ;; *) fail "the agent did not accept the enrollment: $result" ;; esac
end

step "enrolled and beating"
device_id() { api GET /api/v1/admin/devices | jq -r '(.items // .devices // [])[0].id // empty'; }
enrolled() { [ -n "$(device_id)" ]; }
poll 180 "the device to enroll" enrolled
DEVICE_ID=$(device_id)
echo "device $DEVICE_ID"
has_heartbeat() { [ "$(api GET "/api/v1/admin/devices/$DEVICE_ID/telemetry" | jq '(.points // []) | length')" -gt 0 ]; }
poll 180 "a heartbeat from $DEVICE_ID" has_heartbeat
api GET "/api/v1/admin/devices/$DEVICE_ID" | jq '{status, model, sdkInt, agentVersion, lastSeenAt}'
end

step "lock task"
adb shell input keyevent KEYCODE_HOME || true
locked() {
  adb shell dumpsys activity activities | tr -d '\r' | grep -iE 'mLockTaskModeState=(LOCKED|PINNED)' \
    || adb shell dumpsys activity | tr -d '\r' | grep -E 'mLockTaskModeState=LOCKED'
}
poll 120 "the home screen to run in lock task" locked
end

step "PING round trip"
CID=$(api POST /api/v1/admin/commands "{\"type\":\"PING\",\"deviceIds\":[\"$DEVICE_ID\"]}" | jq -r '.commands[0].id')
[ -n "$CID" ] && [ "$CID" != null ] || fail "the PING was not created"
ping_done() {
  local status
  status=$(api GET "/api/v1/admin/commands/$CID" | jq -r .status)
  echo "PING $CID: $status"
  case "$status" in succeeded) return 0 ;; failed|rejected|expired) fail "PING ended $status" ;; *) return 1 ;; esac
}
poll 180 "the PING to succeed" ping_done
api GET "/api/v1/admin/commands/$CID" | jq '{status, output}'
end

echo "emulator end-to-end: enrolled, heartbeat, lock task, PING round trip - all passed"

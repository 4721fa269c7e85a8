#!/usr/bin/env bash
# Compiles android-agent/core and its JUnit 5 tests with Debian's kotlinc (Kotlin 1.3, the oldest
# compiler the core must build with) and runs them, including the live test against a standalone
# server that this script starts on a free port with a fresh data directory and stops on exit.
#
#   android-agent/core/test.sh                      # everything
#   MDM_TEST_URL=http://host:8080 MDM_TEST_ADMIN_EMAIL=... MDM_TEST_ADMIN_PASSWORD=... test.sh
#                                                   # the live test against a server you run
#
# Needs: apt-get install -y kotlin junit5 libgoogle-gson-java (plus node and npm ci for the server).
set -euo pipefail

CORE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$CORE/../.." && pwd)"
OUT="$CORE/build/kotlinc"
started=$(date +%s)

need() { [ -e "$1" ] || { echo "test.sh: $1 not found: $2" >&2; exit 1; }; }
command -v kotlinc >/dev/null || { echo "test.sh: kotlinc not found: apt-get install -y kotlin" >&2; exit 1; }
GSON=/usr/share/java/gson.jar
JUNIT=/usr/share/java/junit-platform-console-standalone.jar
need "$GSON" "apt-get install -y libgoogle-gson-java"
need "$JUNIT" "apt-get install -y junit5"
KOTLIN_HOME="$(cd "$(dirname "$(readlink -f "$(command -v kotlinc)")")/.." && pwd)"
STDLIB="$KOTLIN_HOME/lib/kotlin-stdlib.jar"
need "$STDLIB" "the kotlin package's standard library"

SERVER_PID=""
DATA_DIR=""
SERVER_LOG=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "$DATA_DIR" ] && rm -rf "$DATA_DIR"
  [ -n "$SERVER_LOG" ] && rm -f "$SERVER_LOG"
  return 0
}
trap cleanup EXIT INT TERM

# 1. The server starts in the background (PGlite takes a while) while Kotlin compiles.
if [ -z "${MDM_TEST_URL:-}" ]; then
  MAIN_JS="$ROOT/functions/lib/standalone/main.js"
  if [ ! -f "$MAIN_JS" ] || [ -n "$(find "$ROOT/functions/src" "$ROOT/sql" -newer "$MAIN_JS" -type f -print -quit)" ]; then
    echo "test.sh: building the server (npm run build -w functions)"
    # tsc emits even when it reports type errors; those are the typecheck's to report, not ours.
    (cd "$ROOT" && npm run build -w functions >/dev/null 2>&1) || echo "test.sh: warning: the server build reported errors" >&2
    [ -f "$MAIN_JS" ] || { echo "test.sh: no $MAIN_JS after the build" >&2; exit 1; }
  fi
  PORT=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  DATA_DIR=$(mktemp -d)
  SERVER_LOG=$(mktemp)
  export MDM_TEST_URL="http://127.0.0.1:$PORT"
  export MDM_TEST_ADMIN_EMAIL="agent-test@fleet.test"
  MDM_TEST_ADMIN_PASSWORD="kotlin-core-$(date +%s%N)"
  export MDM_TEST_ADMIN_PASSWORD
  (cd "$ROOT/functions" && PORT=$PORT DATA_DIR="$DATA_DIR" ADMIN_EMAIL="$MDM_TEST_ADMIN_EMAIL" \
    ADMIN_PASSWORD="$MDM_TEST_ADMIN_PASSWORD" PUBLIC_URL="$MDM_TEST_URL" LOG_LEVEL=warn \
    exec node lib/standalone/main.js) >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
fi
export MDM_TEST_REQUIRE_SERVER=1

# 2. Compile main and tests in one kotlinc run (one JVM start); skipped when nothing changed.
mapfile -t SOURCES < <(find "$CORE/src/main/kotlin" "$CORE/src/test/kotlin" -name '*.kt' | sort)
STAMP=$(cat "${SOURCES[@]}" | sha256sum | cut -c1-64)
if [ "$(cat "$OUT/.stamp" 2>/dev/null || true)" != "$STAMP" ]; then
  rm -rf "$OUT" && mkdir -p "$OUT"
  echo "test.sh: compiling ${#SOURCES[@]} files with $(kotlinc -version 2>&1 | grep -o 'kotlinc-jvm [^ ]*')"
  # C1 only: a compiler run this short does not pay back C2's warm-up.
  JAVA_OPTS="-Xmx1g -XX:TieredStopAtLevel=1 -XX:+UseParallelGC" kotlinc -jvm-target 1.8 -nowarn \
    -cp "$GSON:/usr/share/java/junit-jupiter-api.jar:/usr/share/java/opentest4j.jar:/usr/share/java/junit-platform-commons.jar:$JUNIT" \
    -d "$OUT" "${SOURCES[@]}" >"$OUT/.log" 2>&1 && compiled=0 || compiled=$?
  grep -v -e '^OpenJDK 64-Bit Server VM warning' -e '^info:' "$OUT/.log" || true
  [ "$compiled" -eq 0 ] || { echo "test.sh: compilation failed" >&2; exit 1; }
  echo "$STAMP" >"$OUT/.stamp"
  echo "test.sh: compiled in $(( $(date +%s) - started ))s"
fi

# 3. Wait for the server to answer.
for _ in $(seq 1 600); do
  curl -sf "$MDM_TEST_URL/healthz" >/dev/null 2>&1 && break
  if [ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "test.sh: the server exited:" >&2; tail -n 30 "$SERVER_LOG" >&2; exit 1
  fi
  sleep 0.2
done
if ! curl -sf "$MDM_TEST_URL/healthz" >/dev/null; then
  echo "test.sh: no answer from $MDM_TEST_URL/healthz in 120 s" >&2
  [ -n "$SERVER_LOG" ] && tail -n 30 "$SERVER_LOG" >&2
  exit 1
fi
echo "test.sh: server up at $MDM_TEST_URL after $(( $(date +%s) - started ))s"

# 4. Run every test class on the JUnit platform.
REPORT=$(mktemp)
set +e
java -XX:TieredStopAtLevel=1 -jar "$JUNIT" --disable-banner --fail-if-no-tests --details=tree --details-theme=ascii \
  --class-path "$OUT:$CORE/src/test/resources:$ROOT/docs:$GSON:$STDLIB" --scan-class-path 2>&1 | tee "$REPORT"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -oE '\[ +[0-9]+ tests successful' "$REPORT" | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE '\[ +[0-9]+ tests failed' "$REPORT" | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -oE '\[ +[0-9]+ tests skipped' "$REPORT" | grep -oE '[0-9]+' || echo 0)
rm -f "$REPORT"
if [ "$status" -ne 0 ] && [ -n "$SERVER_PID" ]; then
  echo "test.sh: server log (last 30 lines):" >&2
  tail -n 30 "$SERVER_LOG" >&2
fi
echo "test.sh: finished in $(( $(date +%s) - started ))s"
echo "android-agent core: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$failed" -eq 0 ]

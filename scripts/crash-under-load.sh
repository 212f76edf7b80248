#!/usr/bin/env bash
# Crash under load, end to end: the orders service (./run.sh demo) is killed with kill -9 in the
# middle of a burst of POST /orders, restarted on the same database, and afterwards its database is
# compared with what the clients saw.
#
#   scripts/crash-under-load.sh
#   scripts/crash-under-load.sh --two-instances   two instances on one PostgreSQL database, one
#                                                  killed: scripts/crash-two-instances.sh
#
# Steps: build; start the service in the background on a fresh H2 database; wait until
# /health/ready answers 200; start the load (REQUESTS requests, CONCURRENCY at once, RATE started
# per second); after KILL_AFTER orders were accepted (201), send SIGKILL; wait for the load to end;
# restart the service on the same database; send a second, smaller load (AFTER_REQUESTS), so that
# ids given after the restart are compared with those given before it; wait until every accepted
# order reads "confirmed" (GET /orders/{id}; bounded by WAIT_SECONDS); stop the service with
# SIGTERM; then open the database and print what it holds against what the clients saw.
#
# The guarantee it checks: every order that got a 201 is stored and confirmed exactly once (one
# confirmation row per order), no id was given in two 201s, and no response was half-served.
# Exits 0 if it held and the restarted service exited with 143 (SIGTERM), 1 otherwise, 2 if the
# scenario could not run.
#
# Settings, from the environment: PORT (18081), REQUESTS (2000), CONCURRENCY (32), RATE (400),
# KILL_AFTER (500), AFTER_REQUESTS (200), CONFIRM_MS (1000-2000), WAIT_SECONDS (60), WORK_DIR (a
# new temporary directory; kept, with the services' logs). SKIP_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --two-instances ]; then exec scripts/crash-two-instances.sh; fi
[ $# -eq 0 ] || { echo "crash-under-load.sh: unknown argument '$1' (--two-instances, or none)" >&2; exit 2; }

PORT=${PORT:-18081}
REQUESTS=${REQUESTS:-2000}
CONCURRENCY=${CONCURRENCY:-32}
RATE=${RATE:-400}
KILL_AFTER=${KILL_AFTER:-500}
AFTER_REQUESTS=${AFTER_REQUESTS:-200}
CONFIRM_MS=${CONFIRM_MS:-1000-2000}
WAIT_SECONDS=${WAIT_SECONDS:-60}
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/crash-under-load.XXXXXX")}

say() { printf '[crash-under-load] %s\n' "$*"; }
die() { say "$*" >&2; exit 2; }
now_ms() { date +%s%3N; }

command -v curl >/dev/null || die "curl is needed (to poll /health/ready and the orders)"

# ---- build, and find the JDK run.sh selected
. scripts/demo-build.sh

require_free_port "$PORT" PORT

mkdir -p "$WORK_DIR"
rm -rf "$WORK_DIR/db" "$WORK_DIR/load-1" "$WORK_DIR/load-2" "$WORK_DIR/mark"
DB_URL="jdbc:h2:file:$WORK_DIR/db/orders"

# A background job of a non-interactive shell starts with SIGINT ignored; env --default-signal
# (GNU coreutils 8.31+) restores the default dispositions, where available. env then execs java,
# so $! is the JVM's pid and the signals reach it directly.
ENV_RESET=()
if env --default-signal=INT,TERM true 2>/dev/null; then ENV_RESET=(env --default-signal=INT,TERM); fi

SERVICE=""
cleanup() { [ -z "$SERVICE" ] || kill -KILL "$SERVICE" 2>/dev/null || true; }
trap cleanup EXIT

start_service() { # $1: the log file
  "${ENV_RESET[@]}" "$JAVA" -cp "$CP" dev.lifespan.examples.OrdersService \
    --port="$PORT" --db="$DB_URL" --confirm-ms="$CONFIRM_MS" --metrics-every=1s --quiet \
    >"$1" 2>&1 &
  SERVICE=$!
  local deadline=$(( $(now_ms) + 30000 ))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)" = 200 ]; do
    if ! kill -0 "$SERVICE" 2>/dev/null; then cat "$1"; die "the service exited before it was ready"; fi
    [ "$(now_ms)" -lt "$deadline" ] || { cat "$1"; die "the service was not ready within 30 s"; }
    sleep 0.1
  done
}

# ---- the first run: load, and kill -9 once KILL_AFTER orders were accepted
say "starting the service on port $PORT; database and logs in $WORK_DIR"
start_service "$WORK_DIR/service-1.log"
say "service ready (pid $SERVICE); sending $REQUESTS POST /orders, $CONCURRENCY at once, $RATE/s"
"$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersLoad --port="$PORT" --requests="$REQUESTS" \
  --concurrency="$CONCURRENCY" --rate="$RATE" --mark-after="$KILL_AFTER" --timeout=5s \
  --mark-file="$WORK_DIR/mark" --out="$WORK_DIR/load-1" >"$WORK_DIR/load-1.txt" 2>&1 &
LOAD=$!
while [ ! -e "$WORK_DIR/mark" ]; do
  if ! kill -0 "$LOAD" 2>/dev/null; then
    cat "$WORK_DIR/load-1.txt"; die "the load ended before $KILL_AFTER orders were accepted"
  fi
  sleep 0.01
done
kill -KILL "$SERVICE"
say "$KILL_AFTER orders accepted: sent SIGKILL to the service"
wait "$SERVICE" 2>/dev/null || true
wait "$LOAD" || die "the load generator failed: $(cat "$WORK_DIR/load-1.txt")"
cat "$WORK_DIR/load-1.txt"

# ---- the second run, on the same database
restarted=$(now_ms)
start_service "$WORK_DIR/service-2.log"
say "restarted (pid $SERVICE) in $(( $(now_ms) - restarted )) ms; sending $AFTER_REQUESTS more POST /orders"
sed -n 's/.*database: \(.*order.*\)/  \1/p' "$WORK_DIR/service-2.log"
"$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersLoad --port="$PORT" --requests="$AFTER_REQUESTS" \
  --concurrency="$CONCURRENCY" --rate="$RATE" --out="$WORK_DIR/load-2" >"$WORK_DIR/load-2.txt" 2>&1 \
  || die "the second load failed: $(cat "$WORK_DIR/load-2.txt")"

# ---- wait until every accepted order reads confirmed (the journal's recovery, then the new ones)
await_confirmed "$PORT" "$restarted" "the restart" "$WORK_DIR/load-1/accepted-ids.txt" "$WORK_DIR/load-2/accepted-ids.txt"

signalled=$(now_ms)
kill -TERM "$SERVICE"
set +e
wait "$SERVICE"
exit_code=$?
set -e
SERVICE=""
trap - EXIT
say "the restarted service exited with code $exit_code, $(( $(now_ms) - signalled )) ms after SIGTERM"

echo
echo "---- the restarted service (from $WORK_DIR/service-2.log)"
grep -E 'database: |journal|final counts|not done' "$WORK_DIR/service-2.log" || true

set +e
"$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersReport --db="$DB_URL;IFEXISTS=TRUE" \
  --load="$WORK_DIR/load-1" --load="$WORK_DIR/load-2" --exit-code="$exit_code" \
  --kill-after="$KILL_AFTER"
report=$?
set -e

if [ "$report" -ne 0 ]; then exit 1; fi
if [ "$exit_code" -ne 143 ]; then
  say "expected exit code 143 (SIGTERM) from the restarted service, got $exit_code"
  exit 1
fi
exit 0

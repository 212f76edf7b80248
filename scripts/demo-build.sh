# Sourced by the demo scripts (shutdown-under-load.sh, crash-under-load.sh, crash-two-instances.sh,
# hostile-clients.sh) after they define say and die: builds the examples unless SKIP_BUILD=1 (and
# with them lifespan-loadgen, which their tests use), and sets JAVA_HOME, JAVA, CP and TOOLS_CP to
# the JDK run.sh selected, the examples' class path, and the class path of the load generator and
# the report (dev.lifespan.loadgen.OrdersLoad, OrdersReport).

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building (./run.sh mvn package, tests skipped)"
  ./run.sh mvn -q -DskipTests -Dspotless.check.skip=true -pl lifespan-examples -am package
fi
JAVA_HOME=$(./run.sh mvn -v | sed -n 's/.*runtime: //p')
JAVA="$JAVA_HOME/bin/java"
[ -x "$JAVA" ] || die "no java found at $JAVA"
CP="lifespan-examples/target/classes:$(cat lifespan-examples/target/classpath.txt)"
TOOLS_CP="lifespan-loadgen/target/classes:$(cat lifespan-loadgen/target/classpath.txt)"

# Dies unless nothing answers on 127.0.0.1:$1 ($2 names the setting to change).
require_free_port() {
  if curl -s -o /dev/null "http://127.0.0.1:$1/"; then die "port $1 is in use; set $2 to a free one"; fi
}

# await_confirmed PORT SINCE_MS WHAT ID_FILE...: waits, at most WAIT_SECONDS, until every order id
# in the files reads "confirmed" through http://127.0.0.1:PORT, then says how long after WHAT (at
# SINCE_MS) that took, or how many are still pending; leaves those in $WORK_DIR/pending. One curl
# per round fetches every order still pending, on one connection; each answer is a line. (comm
# needs the lists in the same, lexical, order.) Needs say, now_ms and WORK_DIR of the script.
await_confirmed() {
  local port=$1 since=$2 what=$3 deadline
  shift 3
  sort -u "$@" >"$WORK_DIR/pending"
  deadline=$(( $(now_ms) + WAIT_SECONDS * 1000 ))
  while [ -s "$WORK_DIR/pending" ]; do
    sed "s|^|http://127.0.0.1:$port/orders/|" "$WORK_DIR/pending" | xargs curl -s \
      | sed -n 's/^{"id": \([0-9]*\),.*"status": "confirmed".*/\1/p' | sort >"$WORK_DIR/confirmed"
    comm -23 "$WORK_DIR/pending" "$WORK_DIR/confirmed" >"$WORK_DIR/still"
    mv "$WORK_DIR/still" "$WORK_DIR/pending"
    [ -s "$WORK_DIR/pending" ] || break
    if [ "$(now_ms)" -ge "$deadline" ]; then
      say "$(wc -l <"$WORK_DIR/pending") accepted orders still pending after $WAIT_SECONDS s"
      break
    fi
    sleep 0.5
  done
  [ -s "$WORK_DIR/pending" ] || say "every accepted order reads confirmed $(( $(now_ms) - since )) ms after $what"
}

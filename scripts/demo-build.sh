# Sourced by the demo scripts (shutdown-under-load.sh, crash-under-load.sh, hostile-clients.sh)
# after they define say and die: builds the examples unless SKIP_BUILD=1, and sets JAVA_HOME, JAVA
# and CP to the JDK run.sh selected and the examples' class path.

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building (./run.sh mvn package, tests skipped)"
  ./run.sh mvn -q -DskipTests -Dspotless.check.skip=true -pl lifespan-examples -am package
fi
JAVA_HOME=$(./run.sh mvn -v | sed -n 's/.*runtime: //p')
JAVA="$JAVA_HOME/bin/java"
[ -x "$JAVA" ] || die "no java found at $JAVA"
CP="lifespan-examples/target/classes:$(cat lifespan-examples/target/classpath.txt)"

# Dies unless nothing answers on 127.0.0.1:$1 ($2 names the setting to change).
require_free_port() {
  if curl -s -o /dev/null "http://127.0.0.1:$1/"; then die "port $1 is in use; set $2 to a free one"; fi
}

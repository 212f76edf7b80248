#!/usr/bin/env bash
# Lifespan's one entry point for people and CI.
#
#   ./run.sh demo          the orders service (HTTP on :8080, H2 database): curl it, Ctrl-C it
#   ./run.sh demo shutdown a worker whose must-finish jobs finish after Ctrl-C
#   ./run.sh demo multi    one application run five times side by side in one JVM
#   ./run.sh demo first    the first demo: a task group, a deadline, a shielded cleanup
#                          (the orders and shutdown demos list their options with --help)
#   ./run.sh test          format check, compile and run every module's tests
#   ./run.sh bench ...     build the JMH benchmarks and run them (arguments go to JMH)
#   ./run.sh mvn ...       any Maven command, with the JDK this script selects
#   ./run.sh java ...      the selected JDK's java (for the harnesses in BENCHMARKS.md)
#   ./run.sh help          this text (also: no argument, --help, -h)
#
# JDK selection: JAVA_HOME if it is 25 or newer; otherwise the newest JDK >= 25 found in the
# usual JVM directories; otherwise one line saying what is missing.
set -euo pipefail
cd "$(dirname "$0")"

usage() { # the comment block at the top of this file
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
  help | --help | -h) usage; exit 0 ;;
  demo | test | bench | mvn | java) ;;
  *)
    { echo "run.sh: unknown command '$cmd'"; usage; } >&2
    exit 2
    ;;
esac

java_major() { # prints the feature version of the JDK at $1, or nothing
  local home=$1 v=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  v=${v#1.}
  echo "${v%%[.+-]*}"
}

find_jdk() {
  if [ -n "${JAVA_HOME:-}" ]; then
    local m; m=$(java_major "$JAVA_HOME")
    if [ -n "$m" ] && [ "$m" -ge 25 ]; then echo "$JAVA_HOME"; return; fi
  fi
  local best="" best_major=0 dir m
  for dir in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /Library/Java/JavaVirtualMachines/*/Contents/Home \
             "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$dir" ] || continue
    m=$(java_major "$dir")
    if [ -n "$m" ] && [ "$m" -ge 25 ] && [ "$m" -gt "$best_major" ]; then best=$dir; best_major=$m; fi
  done
  echo "$best"
}

JDK=$(find_jdk)
if [ -z "$JDK" ]; then
  echo "run.sh: no JDK 25 or newer found (JAVA_HOME=${JAVA_HOME:-unset}; searched /usr/lib/jvm, /usr/java, /opt/java, ~/.sdkman); install one or set JAVA_HOME to it" >&2
  exit 2
fi
export JAVA_HOME=$JDK
export PATH="$JAVA_HOME/bin:$PATH"
MVN=(./mvnw -B --no-transfer-progress)

case "$cmd" in
  demo)
    main=dev.lifespan.examples.OrdersService
    case "${1:-}" in
      shutdown) main=dev.lifespan.examples.ShutdownDemo; shift ;;
      multi) main=dev.lifespan.examples.MultiInstanceDemo; shift ;;
      first) main=dev.lifespan.examples.FirstDemo; shift ;;
    esac
    "${MVN[@]}" -q -DskipTests -Dspotless.check.skip=true -pl lifespan-examples -am package
    # exec: the JVM replaces this shell, so Ctrl-C and kill -TERM reach it directly
    exec java -cp "lifespan-examples/target/classes:$(cat lifespan-examples/target/classpath.txt)" \
      "$main" "$@"
    ;;
  test)
    exec "${MVN[@]}" verify "$@"
    ;;
  bench)
    "${MVN[@]}" -q -DskipTests -Dspotless.check.skip=true -pl lifespan-bench -am package
    exec java --enable-preview -jar lifespan-bench/target/benchmarks.jar "$@"
    ;;
  mvn)
    exec "${MVN[@]}" "$@"
    ;;
  java)
    exec java "$@"
    ;;
esac

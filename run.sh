#!/usr/bin/env bash
# Lifespan's one entry point for people and CI.
#
#   ./run.sh demo          the orders service (HTTP on :8080, H2 database): curl it, Ctrl-C it
#   ./run.sh demo shutdown a worker whose must-finish jobs finish after Ctrl-C
#   ./run.sh demo multi    one application run five times side by side in one JVM
#   ./run.sh demo first    the first demo: a task group, a deadline, a shielded cleanup
#   ./run.sh demo spring   the orders service on Spring Boot with the Lifespan starter (HTTP on
#                          :8080, H2); --mode=plain-spring runs it on plain Spring instead
#                          (the orders, shutdown and spring demos list their options with --help)
#   ./run.sh test          format check, compile and run every module's tests
#   ./run.sh install       put the published artifacts into the local Maven repository
#                          (~/.m2/repository): lifespan-bom, the parent pom, and lifespan-core,
#                          -test, -leakcheck, -http, -jdbc, -context, -spring-boot, each with its
#                          sources and javadoc jars; builds them but skips their tests
#                          (./run.sh test runs them)
#   ./run.sh faults        the long fault suites (RELIABILITY.md): 10,000 random task trees
#                          (TRIES=N to change), the jcstress races (JCSTRESS_MODE=quick|
#                          default|tough, default quick), then the signal storms on real
#                          processes, each run 20 times (STORMS=N); ends with 'N passed,
#                          N failed', its table in lifespan-faults/target/faults-run.md
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
  demo | test | install | faults | bench | mvn | java) ;;
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
    main=dev.lifespan.examples.OrdersService module=lifespan-examples
    case "${1:-}" in
      shutdown) main=dev.lifespan.examples.ShutdownDemo; shift ;;
      multi) main=dev.lifespan.examples.MultiInstanceDemo; shift ;;
      first) main=dev.lifespan.examples.FirstDemo; shift ;;
      spring) main=dev.lifespan.springdemo.OrdersSpringApplication module=lifespan-spring-demo; shift ;;
    esac
    "${MVN[@]}" -q -DskipTests -Dspotless.check.skip=true -pl "$module" -am package
    # exec: the JVM replaces this shell, so Ctrl-C and kill -TERM reach it directly
    exec java -cp "$module/target/classes:$(cat "$module/target/classpath.txt")" "$main" "$@"
    ;;
  test)
    exec "${MVN[@]}" verify "$@"
    ;;
  install)
    # the published modules and what they need (-am adds the parent); the others skip install
    exec "${MVN[@]}" install -DskipTests -Dspotless.check.skip=true -am \
      -pl lifespan-bom,lifespan-leakcheck,lifespan-core,lifespan-test,lifespan-http,lifespan-jdbc,lifespan-context,lifespan-micrometer,lifespan-spring-boot \
      "$@"
    ;;
  faults)
    tries=${TRIES:-10000}
    mode=${JCSTRESS_MODE:-quick}
    out=lifespan-faults/target/faults-run.md
    passed=0 failed=0 rows=()
    start=$(date +%s)
    if "${MVN[@]}" verify -pl lifespan-faults -am -Dspotless.check.skip=true \
        -Dtest='TaskTreeProperties' -Dsurefire.failIfNoSpecifiedTests=false \
        -Dlifespan.faults.tries="$tries"; then
      passed=$((passed + 1)); verdict=passed
    else
      failed=$((failed + 1)); verdict=FAILED
    fi
    rows+=("| random task trees (jqwik) | $tries trees | $(($(date +%s) - start)) s | $verdict |")
    start=$(date +%s)
    # a build that fails leaves no results: counted below as a failure, and the storms still run
    "${MVN[@]}" -q -P jcstress -pl lifespan-jcstress -am -DskipTests -Dspotless.check.skip=true \
      package || true
    log=lifespan-jcstress/target/jcstress.log
    rm -rf lifespan-jcstress/target/jcstress-results
    set +e
    # from target/, where jcstress also writes its result blob
    (cd lifespan-jcstress/target && java -jar jcstress.jar -m "$mode" -r jcstress-results) 2>&1 |
      tee "$log"
    set -e
    # jcstress's last progress line counts the runs (a test in one JVM configuration):
    # "(Results: 88 planned; 85 passed, 1 failed, 1 soft errs, 1 hard errs)"
    summary=$(grep -oE 'Results: [0-9]+ planned; [0-9]+ passed, [0-9]+ failed, [0-9]+ soft errs, [0-9]+ hard errs' "$log" | tail -n 1 || true)
    nums=($(grep -oE '[0-9]+' <<<"${summary:-0 0 0 0 0}"))
    ok=${nums[1]:-0}; bad=$(( ${nums[2]:-0} + ${nums[3]:-0} + ${nums[4]:-0} ))
    [ $((ok + bad)) -gt 0 ] || bad=1 # no test ran: the harness itself failed
    passed=$((passed + ok)); failed=$((failed + bad))
    rows+=("| jcstress races (mode $mode) | $((ok + bad)) runs of $(grep -c . lifespan-jcstress/target/classes/META-INF/TestList 2>/dev/null || echo '?') tests | $(($(date +%s) - start)) s | $ok passed, $bad failed |")
    # Per test, from its page of the HTML report: one status cell per run (OK, FAILED, ...) and
    # one count per observed state and run, summed into the test's samples.
    jc_rows=()
    for page in lifespan-jcstress/target/jcstress-results/*.html; do
      [ -f "$page" ] && [ "${page##*/}" != index.html ] || continue
      test=${page##*/}; test=${test%.html}; test=${test#dev.lifespan.jcstress.}
      samples=$({ grep -oE "bgColor=[^>]*>[0-9,]+</td>" "$page" || true; } | sed -E 's/.*>([0-9,]+)<.*/\1/; s/,//g' |
        awk '{ s += $1 } END { print s + 0 }' | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta')
      jc_runs=$(grep -cE "bgColor='[a-z ]+'>[A-Z_ ]+</td>" "$page" || true)
      jc_bad=$({ grep -E "bgColor='[a-z ]+'>[A-Z_ ]+</td>" "$page" || true; } | grep -vc ">OK</td>" || true)
      jc_rows+=("| $test | $jc_runs | $samples | $((jc_runs - jc_bad)) passed, $jc_bad failed |")
    done
    # Signal storms: SignalStormTest writes one line per storm to signal-storms.tsv:
    # name, runs, passed, failed, slowest exit after the first signal (ms).
    storms=${STORMS:-20}
    tsv=lifespan-faults/target/signal-storms.tsv
    rm -f "$tsv"
    start=$(date +%s)
    storms_ok=true
    "${MVN[@]}" verify -pl lifespan-faults -am -Dspotless.check.skip=true \
        -Dtest='SignalStormTest' -Dsurefire.failIfNoSpecifiedTests=false \
        -Dlifespan.faults.storms="$storms" || storms_ok=false
    took=$(($(date +%s) - start))
    kinds=0 runs=0 ok=0 bad=0 storm_rows=()
    if [ -f "$tsv" ]; then
      while IFS=$'\t' read -r name n p f slowest; do
        kinds=$((kinds + 1)); runs=$((runs + n)); ok=$((ok + p)); bad=$((bad + f))
        storm_rows+=("| $name | $n | $slowest ms | $p passed, $f failed |")
      done <"$tsv"
    fi
    # the build or the test class failed outside the storms: count that as one failure
    if [ "$storms_ok" = false ] && [ "$bad" -eq 0 ]; then bad=1; fi
    passed=$((passed + ok)); failed=$((failed + bad))
    rows+=("| signal storms on real processes | $kinds storms × $storms = $runs runs | $took s | $ok passed, $bad failed |")
    {
      echo "| suite | size | time | result |"
      echo "| --- | --- | --- | --- |"
      printf '%s\n' "${rows[@]}"
      if [ ${#jc_rows[@]} -gt 0 ]; then
        echo
        echo "| jcstress test | runs (JVM configurations) | samples | result |"
        echo "| --- | --- | --- | --- |"
        printf '%s\n' "${jc_rows[@]}"
      fi
      if [ ${#storm_rows[@]} -gt 0 ]; then
        echo
        echo "| signal storm | runs | slowest exit after the first signal | result |"
        echo "| --- | --- | --- | --- |"
        printf '%s\n' "${storm_rows[@]}"
      fi
      echo
      echo "$passed passed, $failed failed"
    } | tee "$out"
    [ "$failed" -eq 0 ]
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

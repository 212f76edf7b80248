package dev.lifespan.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * {@link JfrHooksBench}'s benchmarks in forks that record Lifespan's JFR events: a flight recording
 * in memory only ({@code disk=false}, so no file I/O is measured) with the default settings and the
 * library's events enabled.
 */
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-preview", "-XX:StartFlightRecording:disk=false,settings=default"})
public class JfrHooksRecordingBench extends JfrHooksBench {}

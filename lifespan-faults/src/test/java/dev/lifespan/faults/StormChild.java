package dev.lifespan.faults;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The process {@link SignalStormTest} sends signals to: {@link App#runAndExit} with three layers
 * {@code L1} (outermost) to {@code L3} and a main body that runs until cancelled, all named {@code
 * storm}. Each point the test may wait for is announced on standard output as one line {@code
 * child: ...}, so the test orders its signals by lines, never by sleeping.
 *
 * <p>Arguments, as {@code key=value}: {@code grace}, {@code teardown}, {@code kill} (milliseconds,
 * the runner's budget); {@code startup-ms=N} (each layer's startup takes N ms, cancellably); {@code
 * hold-start=L2} (that layer's startup blocks until cancelled); {@code hold-teardown=L2} (that
 * layer's teardown waits until the line {@code release} arrives on standard input); {@code
 * stuck-teardown=L2} (that layer's teardown blocks until cancelled: the hard deadline cancels it);
 * {@code hang-teardown=L2} (that layer's teardown ignores cancellation for good); {@code
 * must-finish} (the main body starts a must-finish task that runs until cancelled).
 */
public final class StormChild {
  private static final Duration FOREVER = Duration.ofDays(1);
  private static final CountDownLatch RELEASE = new CountDownLatch(1);

  private StormChild() {}

  public static void main(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      opts.put(eq < 0 ? a : a.substring(0, eq), eq < 0 ? "" : a.substring(eq + 1));
    }
    Thread.ofPlatform().daemon().name("stdin").start(StormChild::readStdin);
    List<Lifespan> layers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) layers.add(layer("L" + i, opts));
    App.Options options =
        App.Options.named("storm")
            .withGrace(millis(opts, "grace", 2000))
            .withTeardownTimeout(millis(opts, "teardown", 1000))
            .withKillTimeout(millis(opts, "kill", 500))
            .withProgressInterval(Duration.ofMillis(250));
    boolean mustFinish = opts.containsKey("must-finish");
    App.runAndExit(
        options,
        Lifespan.of(layers.toArray(Lifespan[]::new)),
        () -> {
          if (mustFinish) {
            Supervisor.background()
                .spawnMustFinish(
                    "must-finish",
                    () -> {
                      say("must-finish running");
                      try {
                        CancelScope.sleep(FOREVER);
                      } finally {
                        say("must-finish ended");
                      }
                    });
          }
          say("main running");
          CancelScope.sleep(FOREVER);
        });
  }

  private static Lifespan layer(String name, Map<String, String> opts) {
    long startupMs = Long.parseLong(opts.getOrDefault("startup-ms", "0"));
    return Lifespan.named(
        name,
        ctx -> {
          say(name + " starting");
          if (startupMs > 0) CancelScope.sleep(Duration.ofMillis(startupMs));
          if (name.equals(opts.get("hold-start"))) {
            say(name + " holding startup");
            try {
              CancelScope.sleep(FOREVER);
            } finally {
              say(name + " startup ended");
            }
          }
          say(name + " started");
          ctx.proceed();
          say(name + " tearing down");
          if (name.equals(opts.get("hold-teardown"))) {
            say(name + " holding teardown");
            RELEASE.await();
            say(name + " released");
          }
          if (name.equals(opts.get("stuck-teardown"))) {
            say(name + " teardown stuck");
            CancelScope.sleep(FOREVER);
          }
          if (name.equals(opts.get("hang-teardown"))) hang(name);
          say(name + " torn down");
        });
  }

  /** Ignores every cancellation: the runner must give up on this thread. */
  private static void hang(String name) {
    say(name + " teardown hanging");
    boolean told = false;
    while (true) {
      try {
        Thread.sleep(FOREVER);
      } catch (InterruptedException e) {
        if (!told) say(name + " teardown ignoring an interrupt");
        told = true;
      }
    }
  }

  private static void readStdin() {
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("release")) RELEASE.countDown();
      }
    } catch (IOException e) {
      // the test went away; nothing to release
    }
  }

  private static Duration millis(Map<String, String> opts, String key, long fallback) {
    return Duration.ofMillis(Long.parseLong(opts.getOrDefault(key, Long.toString(fallback))));
  }

  private static void say(String message) {
    System.out.println("child: " + message);
    System.out.flush();
  }
}

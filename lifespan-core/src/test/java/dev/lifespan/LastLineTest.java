package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The runner's last line, {@code stopped ...: OUTCOME, exit code N}, is the last thing it prints,
 * and the exit code is the outcome's, whatever signals arrive while the application ends and the
 * process exits. Regressions found by the signal storms of {@code lifespan-faults}.
 */
class LastLineTest {

  /**
   * Regression: a signal that arrived while the runner printed its last line got its reply
   * ("SIGTERM received again: already shutting down ...") printed after it. Here the sink itself
   * sends the signal when it takes the last line, the latest a signal can come before the result is
   * out.
   */
  @Test
  void aSignalWhileTheLastLineIsPrintedPrintsNothingAfterIt() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    AtomicReference<App> app = new AtomicReference<>();
    App.Options options =
        App.Options.named("last")
            .withProgress(
                line -> {
                  lines.add(line);
                  if (line.contains(": stopped ")) app.get().signal(App.Signal.TERM);
                });
    app.set(App.start(options, Lifespan.of(), null));
    assertTrue(app.get().awaitReady());
    app.get().signal(App.Signal.TERM);
    App.Result r = app.get().await();
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertTrue(
        lines.getLast().contains(": stopped "), "the last line:\n" + String.join("\n", lines));
    app.get().signal(App.Signal.INT);
    assertTrue(lines.getLast().contains(": stopped "), "nothing after the end either: " + lines);
  }

  /**
   * Run in a child JVM by the test below: a main body that fails, and a progress sink that, once it
   * has printed the last line, starts raising SIGTERM in this process without pause until it exits.
   */
  public static final class FailingUnderSigtermsMain {
    public static void main(String[] args) {
      App.runAndExit(
          App.Options.named("storm")
              .withProgress(
                  line -> {
                    System.err.println(line);
                    if (line.contains(": stopped ")) {
                      Thread.ofPlatform()
                          .daemon()
                          .start(
                              () -> {
                                sun.misc.Signal term = new sun.misc.Signal("TERM");
                                while (true) sun.misc.Signal.raise(term);
                              });
                    }
                  }),
          Lifespan.of(),
          () -> {
            throw new IllegalStateException("the body fails");
          });
    }
  }

  /**
   * Regression: the runner restored the JVM's own signal handlers before {@code System.exit}, so a
   * SIGTERM arriving then began the JVM's exit with status 143, and a FAILED application (exit code
   * 1) exited with 143; its failure was printed after the last line, which widened that window.
   */
  @Test
  void sigtermsWhileTheProcessExitsChangeNeitherTheExitCodeNorTheLastLine() throws Exception {
    ChildJvm.Result r = ChildJvm.run(List.of(), FailingUnderSigtermsMain.class);
    assertEquals(1, r.exitCode(), r.output());
    List<String> out = r.output().lines().toList();
    assertTrue(
        out.getLast()
            .matches(".*storm: stopped \\d+ ms after the shutdown request: FAILED, exit code 1"),
        r.output());
    int failure =
        out.indexOf(
            out.stream()
                .filter(l -> l.endsWith("storm: failure:"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no failure printed:\n" + r.output())));
    assertTrue(
        out.get(failure + 1).startsWith("java.lang.IllegalStateException: the body fails"),
        r.output());
  }
}

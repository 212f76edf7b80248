package dev.lifespan.examples;

import dev.lifespan.CancelScope;
import dev.lifespan.Task;
import dev.lifespan.TaskFailedException;
import dev.lifespan.TaskGroup;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The first demo: three short scenes that show what a task group, a deadline and a shield do.
 *
 * <ol>
 *   <li>A deadline: three price lookups run in parallel under a 500 ms budget; the slow one is
 *       cancelled when the budget runs out, and the page is rendered with what arrived.
 *   <li>Fail-fast: one of three tasks fails; its siblings, still working, are cancelled at once,
 *       and the group reports the failure with the failed task's name.
 *   <li>A shield: a cancelled task still writes its audit record, because the cleanup runs in a
 *       shielded scope that the cancellation does not reach.
 * </ol>
 *
 * The work is simulated with sleeps; the output shows elapsed milliseconds.
 */
public final class FirstDemo {
  private final PrintStream out;
  private final long start = System.nanoTime();

  /** Every simulated duration is multiplied by this: a test on a busy machine runs it slower. */
  private final int pace;

  FirstDemo(PrintStream out, int pace) {
    this.out = out;
    this.pace = pace;
  }

  public static void main(String[] args) throws Exception {
    new FirstDemo(System.out, 1).run();
  }

  void run() throws Exception {
    say("Lifespan first demo: task groups, deadlines, shields (Java %s)", Runtime.version());
    deadline();
    failFast();
    shield();
    say("done: every task ended; nothing was left running");
  }

  /** Scene 1: a budget for the whole group; what does not arrive in time is cancelled. */
  void deadline() throws Exception {
    say("");
    say("1. Deadline: three price lookups with a %d ms budget", 500 * pace);
    Map<String, String> prices = new ConcurrentSkipListMap<>();
    TaskGroup.run(
        "prices",
        g -> {
          g.scope().setTimeout(Duration.ofMillis(500L * pace));
          g.spawn("supplier-a", () -> prices.put("a", lookup("supplier-a", 100L * pace)));
          g.spawn("supplier-b", () -> prices.put("b", lookup("supplier-b", 250L * pace)));
          g.spawn("supplier-c", () -> prices.put("c", lookup("supplier-c", 5_000L * pace)));
        });
    say("   page rendered with what arrived in time: %s", prices);
  }

  private String lookup(String supplier, long millis) throws InterruptedException {
    try {
      Thread.sleep(millis);
      say("   %s answered after %d ms", supplier, millis);
      return "42.00";
    } catch (InterruptedException e) {
      say("   %s cancelled: the budget ran out", supplier);
      throw e;
    }
  }

  /** Scene 2: the first failure cancels the siblings and comes out of the group, named. */
  void failFast() {
    say("");
    say("2. Fail-fast: 'inventory' fails while 'pricing' and 'shipping' are still working");
    try {
      TaskGroup.run(
          "checkout",
          g -> {
            g.spawn("pricing", () -> work("pricing", 2_000L * pace));
            g.spawn("shipping", () -> work("shipping", 2_000L * pace));
            g.spawn(
                "inventory",
                () -> {
                  Thread.sleep(150L * pace);
                  say("   inventory: warehouse unreachable, failing");
                  throw new IllegalStateException("warehouse unreachable");
                });
          });
    } catch (TaskFailedException e) {
      say("   group failed: %s", e.getMessage());
    }
  }

  private void work(String name, long millis) throws InterruptedException {
    try {
      Thread.sleep(millis);
      say("   %s finished", name);
    } catch (InterruptedException e) {
      say("   %s cancelled because a sibling failed", name);
      throw e;
    }
  }

  /** Scene 3: cleanup in a shield finishes even though its task was cancelled. */
  void shield() throws Exception {
    say("");
    say("3. Shield: a cancelled upload still writes its audit record");
    TaskGroup.run(
        "uploads",
        g -> {
          Task<Void> upload =
              g.spawn(
                  "upload",
                  () -> {
                    try {
                      say("   upload: sending 1 GiB...");
                      Thread.sleep(Duration.ofMinutes(10));
                    } finally {
                      CancelScope.run(
                          CancelScope.Options.named("audit").shielded(),
                          s -> {
                            Thread.sleep(
                                200L * pace); // blocking cleanup: not interrupted in the shield
                            say("   upload: audit record written (inside the shield)");
                          });
                    }
                  });
          Thread.sleep(100L * pace);
          say("   user pressed cancel");
          upload.cancel();
        });
    say("   upload task ended; its cleanup completed");
  }

  private void say(String format, Object... args) {
    long ms = (System.nanoTime() - start) / 1_000_000;
    String line = String.format(format, args);
    synchronized (out) {
      out.println(line.isEmpty() ? "" : String.format("[%5d ms] %s", ms, line));
    }
  }
}

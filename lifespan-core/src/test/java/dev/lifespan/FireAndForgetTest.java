package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FireAndForgetTest {

  @Test
  void runsFromAThreadTheLibraryDidNotStart() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    AtomicReference<Task<Void>> task = new AtomicReference<>();
    Thread foreign =
        Thread.ofPlatform().start(() -> task.set(Supervisor.fireAndForget("ping", ran::countDown)));
    foreign.join();
    assertTrue(ran.await(1, TimeUnit.MINUTES));
    task.get().join();
    assertEquals(Future.State.SUCCESS, task.get().state());
  }

  /**
   * Run in a child JVM by the tests below: fires one task and returns from main at once. The task
   * finishes only once the JVM has begun to exit, so its result is on disk only if the exit drained
   * it.
   */
  public static final class DrainMain {
    public static void main(String[] args) {
      Path out = Path.of(args[0]);
      boolean forever = args.length > 1;
      CountDownLatch exiting = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(exiting::countDown));
      Supervisor.fireAndForget(
          "write-result",
          () -> {
            if (forever) Thread.sleep(Duration.ofDays(1));
            exiting.await(); // work that outlives main
            Files.writeString(out, "done");
          });
    }
  }

  @Test
  void theJvmShutdownDrainsProcessWideBackgroundTasks(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("result.txt");
    Process p = ChildJvm.start(List.of(), DrainMain.class, out.toString());
    assertTrue(p.waitFor(1, TimeUnit.MINUTES));
    assertEquals(0, p.exitValue(), output(p));
    assertEquals("done", Files.readString(out), "the task finished before the JVM exited");
  }

  /**
   * Real time: the drain at JVM exit runs in a child JVM on the system clock. Tolerant: the grace
   * is 0.1 s and the JVM is given a minute to exit.
   */
  @Test
  @Tag("real-time")
  void theDrainIsBoundedByTheGrace(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("result.txt");
    Process p =
        ChildJvm.start(
            List.of("-Dlifespan.background.grace=PT0.1S"),
            DrainMain.class,
            out.toString(),
            "forever");
    assertTrue(p.waitFor(1, TimeUnit.MINUTES), "the JVM exits although the task never ends");
    assertFalse(Files.exists(out));
    assertTrue(output(p).contains("cancelling them"), output(p));
  }

  private static String output(Process p) throws IOException {
    return new String(p.getInputStream().readAllBytes());
  }
}

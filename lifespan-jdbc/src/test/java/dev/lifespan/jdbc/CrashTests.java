package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lifespan.jdbc.internal.JournalImpl;
import dev.lifespan.test.FakeClock;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A child JVM is killed with SIGKILL at one step of an entry's life, and the journal restarts on
 * the same database: what was committed is done, once in effect; what was rolled back never runs.
 * The restarted journal's clock starts an hour later than the child's, past the dead lease.
 */
abstract class CrashTests extends JournalContract {
  /** The URL the child connects to. */
  abstract String url();

  /** Closes the parent's hold on the database while the child owns it (H2's file lock). */
  void release() throws Exception {}

  @Override
  FakeClock newClock() {
    return new FakeClock(Instant.now().plus(Duration.ofHours(1)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"committed", "running", "worked"})
  void aCommittedEntryIsDoneOnceInEffectAfterACrash(String point) throws Exception {
    release();
    String said = killChildAfter(point);
    assertEquals(point.toUpperCase(), said);
    reopen();
    JournalImpl j = journal("parent", recording("confirm", "parent", JournalContract::confirm));
    start(j);
    awaitStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, confirmations("7"));
    assertEquals(
        point.equals("committed") ? 0 : 1,
        count("SELECT COUNT(*) FROM runs WHERE owner = 'child'"));
    assertEquals(1, count("SELECT COUNT(*) FROM runs WHERE owner = 'parent'"));
    assertNoEntry(j, "confirm", "rolled-back");
  }

  /** Opens the database again after the child died. */
  void reopen() throws Exception {}

  private String killChildAfter(String point) throws Exception {
    File err = Files.createTempFile("crash-child", ".log").toFile();
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                CrashChild.class.getName(),
                url(),
                point)
            .redirectError(err)
            .start();
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (var in =
                      new BufferedReader(
                          new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = in.readLine()) != null; ) lines.add(l);
                  } catch (Exception ignored) {
                    // the child was killed
                  }
                });
    try {
      String said = lines.poll(60, TimeUnit.SECONDS);
      if (said == null) {
        throw new AssertionError(
            "the child said nothing; its stderr: " + Files.readString(err.toPath()));
      }
      return said;
    } finally {
      child.destroyForcibly(); // SIGKILL
      child.waitFor();
      reader.join();
      Files.deleteIfExists(err.toPath());
    }
  }
}

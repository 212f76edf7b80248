package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lifespan.jdbc.internal.JournalImpl;
import dev.lifespan.test.FakeClock;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A child JVM ({@link CrashChild}) is killed with SIGKILL at one step of an entry's life, and the
 * journal restarts on the same database: what was committed is done, once in effect; what was
 * rolled back, or still uncommitted at the crash, never runs; a dead run's entry is taken over only
 * after its lease. The restarted journal's clock starts an hour later than the child's real one,
 * past the dead lease; the renewal crashes run the child on a fake clock on the parent's timeline.
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

  @Test
  void anEntryWhoseTransactionWasOpenAtTheCrashNeverRunsNorDoesItsBusinessRowExist()
      throws Exception {
    release();
    assertEquals("UNCOMMITTED", killChildAfter("uncommitted"));
    reopen();
    JournalImpl j = journal("parent", recording("confirm", "parent", JournalContract::confirm));
    start(j);
    awaitStatus(j, "confirm", "8", Entry.Status.DONE); // committed after the open transaction
    advance(j, CrashChild.LEASE.plus(POLL)); // past any lease: a later poll finds nothing more
    assertNoEntry(j, "confirm", "7");
    assertEquals(0, count("SELECT COUNT(*) FROM orders"));
    assertEquals(0, runs("7"));
    assertEquals(0, confirmations("7"));
    assertEquals(1, runs("8"));
    assertEquals(1, confirmations("8"));
  }

  /**
   * The child's fake clock starts at this test's clock's time T; it claims the entry at T (lease
   * until T + 30 s), then its renewal at T + 10 s is where it dies: before the statement ran (the
   * lease still ends at T + 30 s) or after it committed (T + 40 s). The restarted journal, on the
   * same timeline, does not take the entry while that lease holds, takes it at its first poll after
   * it expired, and runs it once; its start comes after the dead run's lease.
   */
  @ParameterizedTest
  @ValueSource(strings = {"renewing", "renewed"})
  void aCrashDuringLeaseRenewalLeavesTheEntryToATakeoverAfterTheLeaseThatHeld(String point)
      throws Exception {
    Instant t = clock.instant();
    release();
    String said = killChildAfter(point, t.toString());
    reopen();
    Duration lease =
        point.equals("renewed")
            ? CrashChild.LEASE.plus(CrashChild.LEASE.dividedBy(3))
            : CrashChild.LEASE;
    assertEquals(point.equals("renewed") ? "RENEWED 1" : "RENEWING", said);
    long expires = t.plus(lease).toEpochMilli();
    assertEquals(expires, count("SELECT lease_until FROM lifespan_journal WHERE entry_key = '7'"));
    assertEquals(
        t.toEpochMilli(),
        count("SELECT at_ms FROM runs WHERE owner = 'child' AND entry_key = '7'"));

    JournalImpl j =
        journal(
            "parent",
            Kind.of(
                "confirm",
                (entry, c) -> {
                  recordStartAt(entry, clock.instant().toEpochMilli());
                  JournalContract.confirm(entry, c);
                }));
    start(j);
    advance(j, lease); // at the lease's last millisecond: still the dead run's
    assertStatus(j, "confirm", "7", Entry.Status.PENDING);
    assertEquals(0, count("SELECT COUNT(*) FROM runs WHERE owner = 'parent'"));

    advance(j, POLL); // the first poll after it expired
    assertStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, confirmations("7"));
    assertEquals(1, count("SELECT COUNT(*) FROM runs WHERE owner = 'child'"));
    assertEquals(1, count("SELECT COUNT(*) FROM runs WHERE owner = 'parent'"));
    // the starts: the parent's run began after the dead run's lease ended, never during it
    assertEquals(
        expires + POLL.toMillis(),
        count("SELECT at_ms FROM runs WHERE owner = 'parent' AND entry_key = '7'"));
  }

  private void recordStartAt(Entry entry, long atMillis) throws Exception {
    try (Connection c = dataSource().getConnection();
        var p = c.prepareStatement("INSERT INTO runs VALUES (?, ?, 'parent', ?, ?)")) {
      p.setString(1, entry.kind());
      p.setString(2, entry.key());
      p.setInt(3, entry.attempt());
      p.setLong(4, atMillis);
      p.executeUpdate();
    }
  }

  /** Opens the database again after the child died. */
  void reopen() throws Exception {}

  /** Starts the child at {@code point}; returns the first line it says, after it was killed. */
  private String killChildAfter(String point, String... more) throws Exception {
    File err = Files.createTempFile("crash-child", ".log").toFile();
    List<String> command =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElseThrow(),
                "-cp",
                System.getProperty("java.class.path"),
                CrashChild.class.getName(),
                url(),
                point));
    command.addAll(List.of(more));
    Process child = new ProcessBuilder(command).redirectError(err).start();
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

package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.jdbc.internal.JournalImpl;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two instances ({@link InstanceChild}, two JVMs) share one PostgreSQL database, in real time with
 * a short lease; one is killed with SIGKILL while it runs entries, and the survivor takes them over
 * once their lease expired. Every entry is done exactly once, and the table of starts shows that no
 * entry had two live runners.
 */
class PostgresTwoInstancesTest extends JournalContract {
  private static final int HELD = 4;
  private static final int WAVE = 150;
  private static final Duration WAIT = Duration.ofSeconds(90);

  private String url;

  @BeforeAll
  static void server() {
    Databases.startPostgres();
  }

  @Override
  DataSource open() {
    url = Databases.freshPostgresUrl();
    return Databases.postgres(url);
  }

  /**
   * Instance {@code a} starts alone and holds the {@value #HELD} entries of the first wave, leased
   * and renewed, never finished; then instance {@code b} starts, and both run a second wave of
   * {@value #WAVE} entries, claiming from the same table. Once {@code a}'s first leases would have
   * expired without renewal, and part of the second wave is done, {@code a} is killed: its held
   * entries, and whichever second-wave entries it was running, are taken over by {@code b} after
   * their lease.
   */
  @Test
  void theSurvivorTakesOverTheDeadInstancesEntriesAfterTheLeaseAndEachIsDoneOnce()
      throws Exception {
    JournalImpl enqueuer = journal("instances", Kind.of("confirm", (entry, c) -> {}));
    for (int i = 1; i <= HELD; i++) enqueuer.enqueueAndCommit("confirm", "held-" + i, "");
    try (Child a = Child.start(url, "a", 1, HELD)) {
      for (int i = 0; i < HELD; i++) a.await("HOLD ");
      long firstLeases = count("SELECT MAX(lease_until) FROM lifespan_journal");
      try (Child b = Child.start(url, "b", Integer.MAX_VALUE, 0)) {
        b.await("READY");
        try (Connection c = dataSource().getConnection()) { // one transaction: all at once
          c.setAutoCommit(false);
          for (int i = 1; i <= WAVE; i++) enqueuer.enqueue(c, "confirm", "w-" + i, "");
          c.commit();
        }
        // a renews: past its first leases, b (polling every 100 ms) has not taken them
        await(
            () -> System.currentTimeMillis() > firstLeases + 100 && done() >= WAVE / 3,
            "the first leases' expiry and a third of the wave done");
        assertEquals(
            HELD,
            count(
                "SELECT COUNT(*) FROM lifespan_journal WHERE lease_owner = 'a'"
                    + " AND entry_key LIKE 'held-%'"));
        assertEquals(
            0, count("SELECT COUNT(*) FROM runs WHERE owner = 'b' AND entry_key LIKE 'held-%'"));

        long killed = System.currentTimeMillis();
        a.kill();
        Map<String, Long> deadLeases = deadLeases();
        await(() -> done() == HELD + WAVE, "every entry done by the survivor");

        // exactly once: one confirmation per entry
        assertEquals(HELD + WAVE, count("SELECT COUNT(DISTINCT entry_key) FROM confirmations"));
        assertEquals(HELD + WAVE, count("SELECT COUNT(*) FROM confirmations"));
        // both instances ran second-wave entries, claiming from one table at once
        assertTrue(
            count("SELECT COUNT(*) FROM runs WHERE owner = 'a' AND entry_key LIKE 'w-%'") > 0);
        assertTrue(
            count("SELECT COUNT(*) FROM runs WHERE owner = 'b' AND entry_key LIKE 'w-%'") > 0);
        // the starts: no entry started twice by one instance; an entry started by both was a
        // dead run's, leased by a at its death, and b started it after that lease, after the kill
        Map<String, Map<String, Long>> starts = starts();
        Set<String> takenOver = new TreeSet<>();
        starts.forEach(
            (key, byOwner) -> {
              if (byOwner.size() == 1) return;
              takenOver.add(key);
              Long lease = deadLeases.get(key);
              assertTrue(lease != null, key + " started by both, not leased by a at its death");
              long startA = byOwner.get("a"), startB = byOwner.get("b");
              assertTrue(startA < killed, key + ": a started it after it was killed");
              assertTrue(startB >= killed, key + ": b started it while a was alive");
              assertTrue(startB > lease, key + ": b started it before a's lease expired");
            });
        for (int i = 1; i <= HELD; i++)
          assertTrue(takenOver.contains("held-" + i), takenOver.toString());
        assertEquals(HELD + WAVE, starts.size());
        System.out.printf(
            "two instances: a started %d of the wave, b %d; killed a; b took over %s%n",
            count("SELECT COUNT(*) FROM runs WHERE owner = 'a' AND entry_key LIKE 'w-%'"),
            count("SELECT COUNT(*) FROM runs WHERE owner = 'b' AND entry_key LIKE 'w-%'"),
            takenOver);
      }
    }
  }

  private long done() {
    try {
      return count("SELECT COUNT(*) FROM lifespan_journal WHERE status = 'DONE'");
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  /** The lease expiry of every entry leased by {@code a}. */
  private Map<String, Long> deadLeases() throws SQLException {
    Map<String, Long> leases = new HashMap<>();
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT entry_key, lease_until FROM lifespan_journal WHERE lease_owner = 'a'")) {
      while (r.next()) leases.put(r.getString(1), r.getLong(2));
    }
    return leases;
  }

  /** Each entry's starts: owner to start time; fails if one owner started an entry twice. */
  private Map<String, Map<String, Long>> starts() throws SQLException {
    Map<String, Map<String, Long>> starts = new HashMap<>();
    try (Connection c = dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT entry_key, owner, at_ms FROM runs")) {
      while (r.next()) {
        Long before =
            starts
                .computeIfAbsent(r.getString(1), k -> new HashMap<>())
                .put(r.getString(2), r.getLong(3));
        assertEquals(null, before, r.getString(1) + " started twice by " + r.getString(2));
      }
    }
    return starts;
  }

  /** {@link InstanceChild} as a child JVM, its standard output read line by line. */
  private static final class Child implements AutoCloseable {
    private final Process process;
    private final File err;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Thread reader;

    private Child(Process process, File err) {
      this.process = process;
      this.err = err;
      this.reader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (var in =
                        new BufferedReader(
                            new InputStreamReader(
                                process.getInputStream(), StandardCharsets.UTF_8))) {
                      for (String l; (l = in.readLine()) != null; ) lines.add(l);
                    } catch (Exception ignored) {
                      // the child was killed
                    }
                  });
    }

    static Child start(String url, String owner, int holdFrom, int holds) throws Exception {
      File err = Files.createTempFile("instance-" + owner, ".log").toFile();
      List<String> command =
          new ArrayList<>(
              List.of(
                  ProcessHandle.current().info().command().orElseThrow(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  InstanceChild.class.getName(),
                  url,
                  owner,
                  Integer.toString(holdFrom),
                  Integer.toString(holds)));
      return new Child(new ProcessBuilder(command).redirectError(err).start(), err);
    }

    /** Waits for the next line that starts with {@code prefix}, passing over others. */
    String await(String prefix) throws Exception {
      long deadline = System.nanoTime() + WAIT.toNanos();
      for (long left = WAIT.toNanos(); left > 0; left = deadline - System.nanoTime()) {
        String line = lines.poll(left, TimeUnit.NANOSECONDS);
        if (line != null && line.startsWith(prefix)) return line;
      }
      throw new AssertionError(
          "no line '"
              + prefix
              + "...' within "
              + WAIT
              + "; the child's stderr: "
              + Files.readString(err.toPath()));
    }

    /** SIGKILL, and waits until the process is gone. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }

    @Override
    public void close() throws Exception {
      kill();
      reader.join();
      Files.deleteIfExists(err.toPath());
    }
  }
}

package dev.lifespan.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.TaskDump;
import dev.lifespan.TimeSource;
import dev.lifespan.jdbc.internal.Claimer;
import dev.lifespan.jdbc.internal.JournalImpl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/** The journal's behaviour, run on each database by a subclass. */
abstract class JournalTests extends JournalContract {
  static final Kind.Handler CONFIRM = JournalContract::confirm;

  @Test
  void anEntryEnqueuedInACommittedTransactionRunsOnceAfterTheCommit() throws Exception {
    JournalImpl j = journal("a", recording("confirm", "a", CONFIRM));
    start(j);
    Journal.Enqueued e;
    try (Connection c = dataSource().getConnection()) {
      c.setAutoCommit(false);
      exec(c, "INSERT INTO orders VALUES (7)");
      e = j.enqueue(c, "confirm", "7", "{\"order\":7}");
      assertTrue(e.isNew());
      c.commit();
    }
    e.start();
    awaitStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, runs("7"));
    assertEquals(1, confirmations("7"));
  }

  @Test
  void aCommittedEntryRunsAtTheNextPollWithoutStart() throws Exception {
    JournalImpl j = journal("a", recording("confirm", "a", CONFIRM));
    start(j);
    try (Connection c = dataSource().getConnection()) {
      c.setAutoCommit(false);
      j.enqueue(c, "confirm", "7", "");
      c.commit();
    }
    advance(j, POLL);
    assertStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, runs("7"));
  }

  @Test
  void anEntryOfARolledBackTransactionNeverRuns() throws Exception {
    JournalImpl j = journal("a", recording("confirm", "a", CONFIRM));
    start(j);
    try (Connection c = dataSource().getConnection()) {
      c.setAutoCommit(false);
      exec(c, "INSERT INTO orders VALUES (7)");
      j.enqueue(c, "confirm", "7", "").start(); // start before the end: harmless
      c.rollback();
    }
    j.enqueueAndCommit("confirm", "8", "").start(); // enqueued after 7: claimed after it
    awaitStatus(j, "confirm", "8", Entry.Status.DONE);
    advance(j, POLL);
    assertNoEntry(j, "confirm", "7");
    assertEquals(0, runs("7"));
    assertEquals(0, count("SELECT COUNT(*) FROM orders"));
  }

  @Test
  void theSameKindAndKeyTwiceIsOneEntry() throws Exception {
    JournalImpl j = journal("a", recording("confirm", "a", CONFIRM));
    try (Connection c = dataSource().getConnection()) {
      c.setAutoCommit(false);
      assertTrue(j.enqueue(c, "confirm", "7", "first").isNew());
      assertFalse(j.enqueue(c, "confirm", "7", "second").isNew()); // the transaction goes on
      exec(c, "INSERT INTO orders VALUES (7)");
      c.commit();
    }
    assertFalse(j.enqueueAndCommit("confirm", "7", "third").isNew());
    start(j);
    awaitStatus(j, "confirm", "7", Entry.Status.DONE);
    assertFalse(j.enqueueAndCommit("confirm", "7", "after done").isNew());
    advance(j, POLL);
    assertEquals(1, runs("7"));
    assertEquals(1, count("SELECT COUNT(*) FROM lifespan_journal"));
    assertEquals("first", string("SELECT payload FROM lifespan_journal"));
    assertEquals(1, count("SELECT COUNT(*) FROM orders"));
  }

  @Test
  void theHandlersWorkAndTheDoneMarkCommitTogether() throws Exception {
    JournalImpl j =
        journal(
            "a",
            recording(
                    "confirm",
                    "a",
                    (entry, c) -> {
                      confirm(entry, c);
                      if (entry.attempt() == 1) throw new IllegalStateException("after the work");
                    })
                .withBackoff(Duration.ofSeconds(10), Duration.ofSeconds(10)));
    start(j);
    j.enqueueAndCommit("confirm", "7", "");
    await(() -> runsOf("7") == 1 && j.claimer().inFlight() == 0, "the first run");
    assertEquals(1, runs("7"));
    assertEquals(0, confirmations("7"), "the failed run's work was committed");
    assertStatus(j, "confirm", "7", Entry.Status.PENDING);
    advance(j, Duration.ofSeconds(10));
    assertStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(2, runs("7"));
    assertEquals(1, confirmations("7"));
  }

  @Test
  void aFailingEntryIsRetriedWithBackoffThenMarkedFailedAndReportedOnce() throws Exception {
    List<String> failures = new CopyOnWriteArrayList<>();
    Kind failing =
        recording(
                "confirm",
                "a",
                (entry, c) -> {
                  throw new IllegalStateException("no stock");
                })
            .withMaxAttempts(3)
            .withBackoff(Duration.ofSeconds(10), Duration.ofSeconds(15));
    JournalImpl j =
        journal(
            Journal.Options.named("a")
                .withLease(LEASE)
                .withPollInterval(POLL)
                .withFailureHandler((entry, t) -> failures.add(entry + ": " + t.getMessage())),
            failing);
    App app = start(j);
    assertEquals(0, j.pendingEntries());
    j.enqueueAndCommit("confirm", "7", "");
    await(() -> runsOf("7") == 1 && j.claimer().inFlight() == 0, "the first run");
    assertEquals(1, j.pendingEntries(), "pending while it waits for its retry");
    assertEquals(1, j.retriedRuns());
    assertEquals(0, j.failedEntries());
    for (int s = 1; s <= 30; s++) advance(j, Duration.ofSeconds(1));
    assertEquals(0, j.pendingEntries());
    assertEquals(2, j.retriedRuns());
    assertEquals(1, j.failedEntries());
    // attempt 1 at 0 s, attempt 2 a backoff of 10 s later, attempt 3 after 20 s capped at 15 s
    assertEquals(
        "0,10000,25000", string(dialectConcat("SELECT %s FROM runs WHERE entry_key = '7'")));
    assertStatus(j, "confirm", "7", Entry.Status.FAILED);
    assertEquals(List.of("confirm/7 (attempt 3): no stock"), failures);
    assertEquals(
        "java.lang.IllegalStateException: no stock",
        string("SELECT last_error FROM lifespan_journal"));
    assertEquals(2, log.stream().filter(l -> l.contains("retry in")).count(), log.toString());
    assertEquals(1, j.claimer().failed());
    app.requestShutdown();
    App.Result r = app.await();
    assertEquals(
        App.Outcome.SUCCEEDED, r.outcome(), "a failed entry is reported, not an app failure");
    assertEquals(1, r.durableFailed());
    assertEquals(0, r.durablePending());
    assertTrue(
        progress
            .getLast()
            .endsWith("app-a: stopped: SUCCEEDED, exit code 0; 1 durable entry failed for good"),
        progress.toString());
  }

  @Test
  void anEntryFailedForGoodIsAJfrEvent() throws Exception {
    Kind failing =
        Kind.of(
                "ship",
                (entry, c) -> {
                  throw new IllegalStateException("no carrier for " + entry.key());
                })
            .withMaxAttempts(1);
    JournalImpl j =
        journal(
            Journal.Options.named("jfr")
                .withLease(LEASE)
                .withPollInterval(POLL)
                .withFailureHandler((entry, t) -> {}),
            failing);
    Path file = Files.createTempFile("journal", ".jfr");
    try (Recording recording = new Recording()) {
      recording.enable("dev.lifespan.jdbc.EntryFailed");
      recording.start();
      start(j);
      j.enqueueAndCommit("ship", "order-7", "");
      awaitStatus(j, "ship", "order-7", Entry.Status.FAILED);
      await(() -> j.claimer().failed() == 1, "the failure reported");
      recording.stop();
      recording.dump(file);
    }
    try {
      List<RecordedEvent> events =
          RecordingFile.readAllEvents(file).stream()
              .filter(e -> e.getEventType().getName().equals("dev.lifespan.jdbc.EntryFailed"))
              .filter(e -> "jfr".equals(e.getString("journal")))
              .toList();
      assertEquals(1, events.size(), events.toString());
      RecordedEvent e = events.getFirst();
      assertEquals("ship", e.getString("kind"));
      assertEquals("order-7", e.getString("key"));
      assertEquals(1, e.getInt("attempts"));
      assertEquals("java.lang.IllegalStateException", e.getString("exceptionClass"));
      assertEquals("no carrier for order-7", e.getString("message"));
      assertEquals("Lifespan", e.getEventType().getCategoryNames().getFirst());
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** The times of the runs, in order, comma-separated: an aggregate both databases know. */
  String dialectConcat(String select) {
    return select.formatted("STRING_AGG(CAST(at_ms AS VARCHAR), ',' ORDER BY at_ms)");
  }

  @Test
  void anEntryLeasedByADeadInstanceIsTakenOverWhenTheLeaseExpires() throws Exception {
    JournalImpl j = journal("b", recording("confirm", "b", CONFIRM));
    j.enqueueAndCommit("confirm", "7", "");
    long leaseEnd = clock.instant().plus(LEASE).toEpochMilli();
    exec(
        "UPDATE lifespan_journal SET lease_owner = 'dead', lease_until = "
            + leaseEnd
            + ", attempts = 1, claim_seq = 1");
    start(j);
    for (int s = 1; s <= 30; s++) {
      advance(j, Duration.ofSeconds(1));
      if (s < 30) assertEquals(0, runs("7"), "taken over after " + s + " s");
    }
    advance(j, Duration.ofSeconds(1));
    assertStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, runs("7"));
    assertEquals(2, count("SELECT attempts FROM lifespan_journal"));
  }

  @Test
  void aRunningEntrysLeaseIsRenewedSoASecondInstanceNeverTakesIt() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl a =
        journal(
            "a",
            recording(
                "confirm",
                "a",
                (entry, c) -> {
                  running.countDown();
                  release.await();
                  confirm(entry, c);
                }));
    JournalImpl b = journal("b", recording("confirm", "b", CONFIRM));
    start(a);
    a.enqueueAndCommit("confirm", "7", "");
    running.await();
    start(b);
    Duration renewal = LEASE.dividedBy(3);
    for (int i = 1; i <= 9; i++) { // three leases long
      long polls = b.claimer().polls();
      clock.advance(renewal);
      long expected = clock.instant().plus(LEASE).toEpochMilli();
      await(
          () -> leaseUntil() == expected && b.claimer().polls() > polls,
          "renewal " + i + " and a poll of b");
    }
    release.countDown();
    awaitStatus(a, "confirm", "7", Entry.Status.DONE);
    assertEquals(1, runs("7"));
    assertEquals("a", string("SELECT owner FROM runs"));
    assertEquals(1, confirmations("7"));
  }

  private long leaseUntil() {
    try {
      String s = string("SELECT lease_until FROM lifespan_journal");
      return s == null ? -1 : Long.parseLong(s);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void shutdownLeavesRunningEntriesPendingWithTheirLeasesReleased() throws Exception {
    CountDownLatch running = new CountDownLatch(2);
    JournalImpl j =
        journal(
            "a",
            recording(
                "confirm",
                "a",
                (entry, c) -> {
                  confirm(entry, c);
                  running.countDown();
                  Thread.sleep(Duration.ofDays(1)); // until cancelled
                }));
    App app = start(j);
    j.enqueueAndCommit("confirm", "7", "");
    j.enqueueAndCommit("confirm", "8", "");
    running.await();
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    assertEquals(Journal.State.DRAINING, j.state());
    exec(
        "INSERT INTO lifespan_journal (kind, entry_key, payload, status, attempts, next_at,"
            + " claim_seq) VALUES ('confirm', '9', '', 'PENDING', 0, 0, 0)"); // another instance's
    clock.advance(POLL); // no poll while draining
    assertEquals(0, runs("9"));
    clock.advance(Duration.ofSeconds(10)); // the grace period ends
    App.Result r = app.await();
    assertEquals(App.Outcome.WORK_ABANDONED, r.outcome());
    assertEquals(
        List.of("journal 'a' confirm/7", "journal 'a' confirm/8"),
        r.abandoned().stream().sorted().toList());
    assertEquals(Journal.State.STOPPED, j.state());
    assertEquals(3, count("SELECT COUNT(*) FROM lifespan_journal WHERE status = 'PENDING'"));
    assertEquals(0, count("SELECT COUNT(*) FROM lifespan_journal WHERE lease_owner IS NOT NULL"));
    assertEquals(0, runs("9"));
    assertEquals(0, count("SELECT COUNT(*) FROM confirmations"), "a cancelled run committed");
    assertEquals(2, j.claimer().leftPending());
    assertTrue(
        log.contains(
            "WARNING journal 'a': 2 durable entries left pending for the next start"
                + " (leases released)"),
        log.toString());
    assertEquals(2, r.durablePending(), "the application's result counts them");
    assertEquals(0, r.durableFailed());
    assertEquals(
        "[ 11.00 s] app-a: stopped 11000 ms after the shutdown request: WORK_ABANDONED, exit"
            + " code 4; 2 must-finish tasks abandoned at the end of the grace period: '"
            + String.join("', '", r.abandoned())
            + "'; 2 durable entries left pending for the next start",
        progress.getLast());
  }

  /**
   * At max concurrency during the drain, an entry started by a request still in flight waits for a
   * free place and gets the one the running entry leaves: the claim loop, which would have taken it
   * while the application was ready, has ended.
   */
  /**
   * A journal of max concurrency {@code max} whose run of entry "7" counts {@code running} down,
   * then holds its place until {@code release} opens (or its task is cancelled).
   */
  private JournalImpl holdingSevenUntil(CountDownLatch running, CountDownLatch release, int max) {
    return journal(
        Journal.Options.named("a").withLease(LEASE).withPollInterval(POLL).withMaxConcurrency(max),
        recording(
            "confirm",
            "a",
            (entry, c) -> {
              confirm(entry, c);
              if (entry.key().equals("7")) {
                running.countDown();
                release.await();
              }
            }));
  }

  @Test
  void anEntryStartedDuringTheDrainAtMaxConcurrencyRunsWhenAPlaceIsFree() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl j = holdingSevenUntil(running, release, 1);
    App app = start(j, clock, Duration.ofSeconds(2));
    j.enqueueAndCommit("confirm", "7", "");
    running.await();
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    Journal.Enqueued e;
    try (Connection c = dataSource().getConnection()) { // a request still in flight
      c.setAutoCommit(false);
      exec(c, "INSERT INTO orders VALUES (9)");
      e = j.enqueue(c, "confirm", "9", "");
      c.commit();
    }
    e.start(); // no place: it waits
    release.countDown(); // 7 ends and leaves its place to 9
    awaitStatus(j, "confirm", "9", Entry.Status.DONE);
    clock.advance(Duration.ofSeconds(2)); // the drain delay ends
    App.Result r = app.await();
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertEquals(1, runs("9"));
    assertEquals(1, confirmations("9"));
    assertEquals(0, r.durablePending());
  }

  @Test
  void anEntryStartedWhileReadyAtMaxConcurrencyRunsInTheDrainWhenAPlaceIsFree() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl j = holdingSevenUntil(running, release, 1);
    App app = start(j, clock, Duration.ofSeconds(2));
    j.enqueueAndCommit("confirm", "7", "");
    running.await();
    long polls = j.claimer().polls();
    try (Connection c = dataSource().getConnection()) { // a request while ready
      c.setAutoCommit(false);
      exec(c, "INSERT INTO orders VALUES (9)");
      Journal.Enqueued e = j.enqueue(c, "confirm", "9", "");
      c.commit();
      e.start(); // wakes the claim loop, which has no room for it
    }
    await(() -> j.claimer().polls() > polls, "the claim loop's poll without room");
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    release.countDown(); // 7 ends; the loop ends with readiness; 9 takes the place
    awaitStatus(j, "confirm", "9", Entry.Status.DONE);
    clock.advance(Duration.ofSeconds(2)); // the drain delay ends
    App.Result r = app.await();
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertEquals(1, runs("9"));
    assertEquals(1, confirmations("9"));
    assertEquals(0, r.durablePending());
  }

  @Test
  void entriesWaitingForAPlaceRunAfterTheBackgroundSupervisorStopsTakingTasks() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl j = holdingSevenUntil(running, release, 1);
    App app = start(j, clock, Duration.ofSeconds(2));
    j.enqueueAndCommit("confirm", "7", "");
    running.await();
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    List<Journal.Enqueued> started = new ArrayList<>();
    try (Connection c = dataSource().getConnection()) { // requests still in flight
      c.setAutoCommit(false);
      for (int k = 8; k <= 10; k++) {
        exec(c, "INSERT INTO orders VALUES (" + k + ")");
        started.add(j.enqueue(c, "confirm", String.valueOf(k), ""));
      }
      c.commit();
    }
    started.forEach(Journal.Enqueued::start); // no place: they wait
    clock.advance(Duration.ofSeconds(2)); // the drain delay ends: the background supervisor stops
    await(
        () -> app.dump(false).toString().contains("supervisor 'app-a/background' SHUTTING_DOWN"),
        "the background supervisor to stop taking tasks");
    release.countDown(); // 7 ends; its task runs 8, 9 and 10 in its place, within the grace
    App.Result r = app.await();
    assertEquals(App.Outcome.TERMINATED, r.outcome(), r.toString());
    for (String k : List.of("8", "9", "10")) {
      assertStatus(j, "confirm", k, Entry.Status.DONE);
      assertEquals(1, runs(k), k);
      assertEquals(1, confirmations(k), k);
    }
    assertEquals(0, r.durablePending());
  }

  @Test
  void anEntryStartedOnceTheBackgroundSupervisorTakesNoTasksRunsInTheJournalsOwn()
      throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl j = holdingSevenUntil(running, release, 2);
    App app = start(j, clock, Duration.ofSeconds(2));
    j.enqueueAndCommit("confirm", "7", "");
    running.await();
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    clock.advance(Duration.ofSeconds(2)); // the drain delay ends
    await(
        () -> app.dump(false).toString().contains("supervisor 'app-a/background' SHUTTING_DOWN"),
        "the background supervisor to stop taking tasks");
    j.enqueueAndCommit("confirm", "8", ""); // a request that was answered late: a place is free
    awaitStatus(j, "confirm", "8", Entry.Status.DONE); // while 7 still runs
    release.countDown();
    App.Result r = app.await();
    assertEquals(App.Outcome.TERMINATED, r.outcome(), r.toString());
    assertEquals(1, runs("8"));
    assertEquals(0, r.durablePending());
  }

  @Test
  void anEntryStillWaitingForAPlaceAtTheEndOfTheGraceIsCountedAsLeftPending() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    JournalImpl j = holdingSevenUntil(running, new CountDownLatch(1), 1);
    App app = start(j, clock, Duration.ofSeconds(2));
    j.enqueueAndCommit("confirm", "7", "");
    running.await();
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    j.enqueueAndCommit("confirm", "8", ""); // a request in flight: no place, it waits
    clock.advance(Duration.ofSeconds(2)); // the drain delay ends
    await(
        () -> app.dump(false).toString().contains("supervisor 'app-a/background' SHUTTING_DOWN"),
        "the background supervisor to stop taking tasks");
    clock.advance(Duration.ofSeconds(10)); // the grace period ends: 7 is cancelled
    App.Result r = app.await();
    assertEquals(App.Outcome.WORK_ABANDONED, r.outcome(), r.toString());
    assertStatus(j, "confirm", "7", Entry.Status.PENDING);
    assertStatus(j, "confirm", "8", Entry.Status.PENDING);
    assertEquals(0, runs("8"));
    assertEquals(2, r.durablePending()); // 7 released, 8 never claimed: both said
  }

  @Test
  void anEntryStartedDuringTheDrainRunsWithinTheGrace() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl j =
        journal(
            "a",
            recording(
                "confirm",
                "a",
                (entry, c) -> {
                  confirm(entry, c);
                  if (entry.key().equals("7")) {
                    running.countDown();
                    release.await(); // keeps the background supervisor taking tasks
                  }
                }));
    // the drain delay stands for the in-flight requests: the background supervisor takes tasks
    App app = start(j, clock, Duration.ofSeconds(2));
    j.enqueueAndCommit("confirm", "7", "");
    running.await();
    app.signal(App.Signal.TERM);
    await(() -> app.state() == App.State.DRAINING, "readiness to drop");
    assertEquals(Journal.State.DRAINING, j.state());
    Journal.Enqueued e;
    try (Connection c = dataSource().getConnection()) { // a request still in flight
      c.setAutoCommit(false);
      exec(c, "INSERT INTO orders VALUES (9)");
      e = j.enqueue(c, "confirm", "9", "");
      c.commit();
    }
    e.start();
    awaitStatus(j, "confirm", "9", Entry.Status.DONE);
    release.countDown();
    clock.advance(Duration.ofSeconds(2)); // the drain delay ends
    App.Result r = app.await();
    assertEquals(App.Outcome.TERMINATED, r.outcome());
    assertEquals(List.of(), r.abandoned());
    assertEquals(1, runs("9"));
    assertEquals(1, confirmations("9"));
    assertEquals(0, j.claimer().leftPending());
    assertEquals(0, r.durablePending());
    assertTrue(progress.getLast().endsWith(": TERMINATED, exit code 143"), progress.toString());
  }

  @Test
  void twoInstancesOnOneDatabaseNeverRunOneEntryTwice() throws Exception {
    JournalImpl a = journal(realTime("a"), recording("confirm", "a", CONFIRM));
    JournalImpl b = journal(realTime("b"), recording("confirm", "b", CONFIRM));
    start(a, TimeSource.system());
    start(b, TimeSource.system());
    int n = 60;
    for (int i = 0; i < n; i++) {
      try (Connection c = dataSource().getConnection()) {
        c.setAutoCommit(false);
        Journal.Enqueued e = (i % 2 == 0 ? a : b).enqueue(c, "confirm", "k" + i, "");
        c.commit();
        e.start();
        (i % 2 == 0 ? b : a).claimer().wake(); // both race for every entry
      }
    }
    await(
        () -> {
          try {
            return count("SELECT COUNT(*) FROM lifespan_journal WHERE status = 'DONE'") == n;
          } catch (SQLException e) {
            throw new AssertionError(e);
          }
        },
        n + " entries done");
    assertEquals(n, count("SELECT COUNT(*) FROM runs"));
    assertEquals(n, count("SELECT COUNT(DISTINCT entry_key) FROM runs"));
    assertEquals(n, count("SELECT COUNT(DISTINCT entry_key) FROM confirmations"));
    assertEquals(n, count("SELECT COUNT(*) FROM confirmations"));
  }

  /** Options for a journal on the system clock: short polls, few connections. */
  private static Journal.Options realTime(String name) {
    return Journal.Options.named(name)
        .withLease(Duration.ofSeconds(30))
        .withPollInterval(Duration.ofMillis(100))
        .withMaxConcurrency(4);
  }

  @Test
  void pendingRunningAndFailedEntriesAppearUnderTheJournalsLayerInADump() throws Exception {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    JournalImpl j =
        journal(
            Journal.Options.named("a")
                .withLease(LEASE)
                .withPollInterval(POLL)
                .withFailureHandler((entry, t) -> {}),
            Kind.of(
                "confirm",
                (entry, c) -> {
                  running.countDown();
                  release.await();
                }),
            Kind.of(
                    "ship",
                    (entry, c) -> {
                      throw new IllegalStateException("no carrier");
                    })
                .withMaxAttempts(1));
    App app = start(j);
    try {
      j.enqueueAndCommit("ship", "9", "");
      awaitStatus(j, "ship", "9", Entry.Status.FAILED);
      await(() -> j.claimer().inFlight() == 0, "the failed run to end");
      j.enqueueAndCommit("confirm", "7", "");
      running.await();
      int pending = 30; // of a kind this instance does not run: they stay pending
      for (int i = 0; i < pending; i++) {
        exec(
            "INSERT INTO lifespan_journal (kind, entry_key, payload, status, attempts, next_at,"
                + " claim_seq) VALUES ('invoice', 'p"
                + i
                + "', '', 'PENDING', 0, 0, 0)");
      }
      String text = app.dump(false).toText().replaceAll("\\d+ ms|\\d+\\.\\d s|\\d+ s", "AGE");
      List<String> expected = new ArrayList<>();
      expected.add("  layer 'a' OPEN AGE");
      expected.add("    supervisor 'app-a/a' RUNNING AGE, 2 tasks");
      expected.add("      task 'journal 'a' claims' RUNNING AGE");
      expected.add("      task 'journal 'a' lease renewal' RUNNING AGE");
      expected.add("    entry 'confirm/7' RUNNING AGE");
      expected.add("    entry 'ship/9' FAILED AGE");
      int listed = TaskDump.ENTRIES_LISTED - 2;
      for (int i = 0; i < listed; i++) expected.add("    entry 'invoice/p" + i + "' PENDING AGE");
      expected.add("    more '" + (pending - listed) + "' PENDING AGE");
      assertEquals(
          String.join("\n", expected) + "\n", text.substring(text.indexOf("  layer 'a'")), text);
      String json = app.dump(false).toJson();
      assertTrue(
          json.contains("{\"kind\":\"entry\",\"name\":\"confirm/7\",\"state\":\"RUNNING\""), json);
      assertTrue(json.contains("{\"kind\":\"more\",\"name\":\"12\",\"state\":\"PENDING\""), json);
    } finally {
      release.countDown();
    }
  }

  @Test
  void doneEntriesAreDeletedAfterTheRetentionInSmallBatchesWhileTheJournalPolls() throws Exception {
    Duration retention = Duration.ofMinutes(10);
    var bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> Journal.Options.named("a").withRetention(Duration.ZERO));
    assertEquals("retention must be positive: PT0S (journal 'a')", bad.getMessage());
    JournalImpl j =
        journal(
            Journal.Options.named("a")
                .withLease(LEASE)
                .withPollInterval(POLL)
                .withRetention(retention)
                .withFailureHandler((entry, t) -> {}),
            recording("confirm", "a", CONFIRM),
            Kind.of(
                    "ship",
                    (entry, c) -> {
                      throw new IllegalStateException("no carrier");
                    })
                .withMaxAttempts(1));
    start(j);
    j.enqueueAndCommit("confirm", "7", "").start();
    j.enqueueAndCommit("ship", "9", "").start();
    awaitStatus(j, "confirm", "7", Entry.Status.DONE);
    awaitStatus(j, "ship", "9", Entry.Status.FAILED);
    long doneAt = clock.instant().toEpochMilli();
    int old = 2 * Claimer.purgeBatch() + 50; // done at the same time as 7, by another instance
    try (Connection c = dataSource().getConnection();
        var p =
            c.prepareStatement(
                "INSERT INTO lifespan_journal (kind, entry_key, payload, status, attempts, next_at,"
                    + " claim_seq) VALUES ('confirm', ?, '', 'DONE', 1, ?, 1)")) {
      for (int i = 0; i < old; i++) {
        p.setString(1, "old-" + i);
        p.setLong(2, doneAt);
        p.addBatch();
      }
      p.executeBatch();
    }
    exec(
        "INSERT INTO lifespan_journal (kind, entry_key, payload, status, attempts, next_at,"
            + " claim_seq) VALUES ('later', 'p', '', 'PENDING', 0, 0, 0)"); // never claimed here
    advance(j, retention); // exactly the retention: kept
    assertEquals(old + 1, count("SELECT COUNT(*) FROM lifespan_journal WHERE status = 'DONE'"));
    long left = old + 1;
    while (left > 0) {
      advance(j, POLL); // one batch per poll
      long now = count("SELECT COUNT(*) FROM lifespan_journal WHERE status = 'DONE'");
      assertEquals(Math.max(0, left - Claimer.purgeBatch()), now);
      left = now;
    }
    assertEquals(old + 1, j.claimer().purged());
    assertNoEntry(j, "confirm", "7");
    assertStatus(j, "ship", "9", Entry.Status.FAILED); // failed entries are kept
    assertEquals(1, count("SELECT COUNT(*) FROM lifespan_journal WHERE status = 'PENDING'"));
    assertTrue(j.enqueueAndCommit("confirm", "7", "").isNew(), "the key is free again");
    awaitStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(2, runs("7"), "a deleted entry's key runs again");
  }

  @Test
  void pendingEntriesAreClaimedAtStartup() throws Exception {
    JournalImpl j = journal("a", recording("confirm", "a", CONFIRM));
    for (int i = 1; i <= 5; i++) j.enqueueAndCommit("confirm", "k" + i, ""); // not running yet
    assertEquals(Journal.State.NEW, j.state());
    start(j);
    for (int i = 1; i <= 5; i++) awaitStatus(j, "confirm", "k" + i, Entry.Status.DONE);
    assertEquals(5, count("SELECT COUNT(*) FROM runs"));
    assertEquals(5, count("SELECT COUNT(*) FROM confirmations"));
  }

  @Test
  void aRestartWithTheSameOwnerTakesItsEntriesBackAtOnce() throws Exception {
    Journal.Options options =
        Journal.Options.named("a").withOwner("pod-1").withLease(LEASE).withPollInterval(POLL);
    JournalImpl j = journal(options, recording("confirm", "a", CONFIRM));
    j.enqueueAndCommit("confirm", "7", "");
    exec(
        "UPDATE lifespan_journal SET lease_owner = 'pod-1', lease_until = "
            + clock.instant().plus(LEASE).toEpochMilli());
    start(j);
    awaitStatus(j, "confirm", "7", Entry.Status.DONE);
    assertEquals(0, clock.elapsed().toMillis());
  }

  @Test
  void badInputIsRefusedWithOneLine() throws Exception {
    JournalImpl j = journal("a", Kind.of("confirm", CONFIRM));
    var unknown =
        assertThrows(IllegalArgumentException.class, () -> j.enqueueAndCommit("ship", "7", ""));
    assertEquals("kind 'ship' is not registered (journal 'a': [confirm])", unknown.getMessage());
    assertThrows(IllegalArgumentException.class, () -> j.enqueueAndCommit("confirm", " ", ""));
    assertThrows(
        IllegalArgumentException.class,
        () -> j.enqueueAndCommit("confirm", "7", "x".repeat(Journal.MAX_PAYLOAD_LENGTH + 1)));
    var twice =
        assertThrows(IllegalArgumentException.class, () -> j.register(Kind.of("confirm", CONFIRM)));
    assertEquals("kind 'confirm' is registered already (journal 'a')", twice.getMessage());
    start(j);
    var late =
        assertThrows(IllegalStateException.class, () -> j.register(Kind.of("ship", CONFIRM)));
    assertEquals(
        "journal 'a' is RUNNING: register kinds before the application is ready (kind 'ship')",
        late.getMessage());
    assertNull(j.status("confirm", "nothing").orElse(null));
  }

  private long runsOf(String key) {
    try {
      return runs(key);
    } catch (SQLException e) {
      throw new AssertionError(e);
    }
  }

  static void exec(Connection c, String sql) throws SQLException {
    try (var s = c.createStatement()) {
      s.execute(sql);
    }
  }
}

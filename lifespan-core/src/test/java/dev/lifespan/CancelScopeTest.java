package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.internal.FakeTimer;
import dev.lifespan.internal.ThreadFrame;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CancelScopeTest {
  private static final Duration FOREVER = Duration.ofDays(1);

  @Test
  void cancelByCallIsAbsorbedAtTheScopeBoundary() throws Exception {
    CancelScope scope =
        CancelScope.run(
            s -> {
              s.cancel();
              Thread.sleep(FOREVER);
            });
    assertTrue(scope.isCancelCalled());
    assertTrue(scope.isCancelledCaught());
    assertFalse(Thread.currentThread().isInterrupted(), "absorbing leaves the flag clear");
  }

  @Test
  void bodyThatReturnsNormallyIsNotCaught() throws Exception {
    CancelScope scope = CancelScope.run(s -> {});
    assertFalse(scope.isCancelCalled());
    assertFalse(scope.isCancelledCaught());
  }

  @Test
  void cancelFromAnotherThreadInterruptsABlockingCall() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    AtomicReference<CancelScope> ref = new AtomicReference<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () ->
                    Fixtures.unchecked(
                        () ->
                            CancelScope.run(
                                s -> {
                                  ref.set(s);
                                  entered.countDown();
                                  Thread.sleep(FOREVER);
                                })));
    entered.await();
    ref.get().cancel("test says stop");
    t.join();
    assertTrue(ref.get().isCancelledCaught());
  }

  @Test
  void checkedExceptionsComeOutUnchanged() throws Exception {
    IOException boom = new IOException("boom");
    IOException thrown =
        assertThrows(
            IOException.class,
            () ->
                CancelScope.run(
                    s -> {
                      throw boom;
                    }));
    assertSame(boom, thrown);
  }

  @Test
  void failureInACancelledScopeIsNotAbsorbed() throws Exception {
    IllegalStateException boom = new IllegalStateException("boom");
    IllegalStateException thrown =
        assertThrows(
            IllegalStateException.class,
            () ->
                CancelScope.run(
                    s -> {
                      s.cancel();
                      throw boom;
                    }));
    assertSame(boom, thrown);
    assertFalse(Thread.currentThread().isInterrupted(), "no interrupt leaks out of the scope");
  }

  @Test
  void outerCancellationWinsOverInner() throws Exception {
    List<CancelScope> scopes = new ArrayList<>();
    CancelScope outer =
        CancelScope.run(
            o ->
                scopes.add(
                    CancelScope.run(
                        i -> {
                          scopes.add(i);
                          i.cancel("inner");
                          o.cancel("outer");
                          CancelScope.checkpoint();
                        })));
    CancelScope inner = scopes.get(0);
    assertTrue(outer.isCancelledCaught(), "the outermost cancelled scope absorbs");
    assertTrue(inner.isCancelCalled());
    assertFalse(inner.isCancelledCaught(), "the inner scope lets it through");
    assertEquals(1, scopes.size(), "nothing after the inner scope ran");
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void swallowedCancellationIsRaisedAgainAtTheNextCheckpoint() throws Exception {
    List<String> log = new ArrayList<>();
    CancelScope scope =
        CancelScope.run(
            s -> {
              s.cancel();
              try {
                Thread.sleep(FOREVER);
              } catch (InterruptedException swallowed) {
                log.add("swallowed");
              }
              assertFalse(Thread.currentThread().isInterrupted(), "user code cleared the flag");
              try {
                CancelScope.checkpoint();
              } catch (CancelledException again) {
                log.add("again");
                assertTrue(Thread.currentThread().isInterrupted(), "flag re-asserted");
              }
              Thread.sleep(FOREVER); // still cancelled: fails fast
              log.add("unreachable");
            });
    assertEquals(List.of("swallowed", "again"), log);
    assertTrue(scope.isCancelledCaught());
  }

  @Test
  void cancelledExceptionNamesTheScopeAndTheReason() throws Exception {
    AtomicReference<CancelledException> seen = new AtomicReference<>();
    CancelScope.run(
        CancelScope.Options.named("fetch-prices"),
        s -> {
          s.cancel("client went away");
          try {
            CancelScope.checkpoint();
          } catch (CancelledException e) {
            seen.set(e);
            throw e;
          }
        });
    assertEquals("fetch-prices", seen.get().scopeName());
    assertEquals(
        "CancelScope 'fetch-prices' was cancelled: client went away", seen.get().getMessage());
  }

  @Test
  void firstReasonWins() throws Exception {
    AtomicReference<String> message = new AtomicReference<>();
    CancelScope.run(
        CancelScope.Options.named("s"),
        s -> {
          s.cancel("first");
          s.cancel("second");
          try {
            CancelScope.checkpoint();
          } catch (CancelledException e) {
            message.set(e.getMessage());
          }
        });
    assertTrue(message.get().endsWith(": first"), message.get());
  }

  @Test
  void shieldLetsCleanupFinishAndReRaisesOnExit() throws Exception {
    List<String> log = new ArrayList<>();
    CancelScope outer =
        CancelScope.run(
            o -> {
              o.cancel();
              CancelScope.run(
                  CancelScope.Options.named("cleanup").shielded(),
                  s -> {
                    assertFalse(Thread.currentThread().isInterrupted(), "shield clears the flag");
                    CancelScope.checkpoint(); // not cancelled in here
                    Thread.sleep(Duration.ofMillis(1)); // blocking works in here
                    log.add("cleanup done");
                  });
              log.add("unreachable: the exit of the shield delivers the cancellation");
            });
    assertEquals(List.of("cleanup done"), log);
    assertTrue(outer.isCancelledCaught());
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void shieldIsNotReachedByOuterCancelFromAnotherThread() throws Exception {
    CountDownLatch inShield = new CountDownLatch(1);
    CountDownLatch outerCancelled = new CountDownLatch(1);
    AtomicReference<CancelScope> outerRef = new AtomicReference<>();
    List<String> log = new ArrayList<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () ->
                    Fixtures.unchecked(
                        () ->
                            CancelScope.run(
                                o -> {
                                  outerRef.set(o);
                                  CancelScope.run(
                                      CancelScope.Options.DEFAULT.shielded(),
                                      s -> {
                                        inShield.countDown();
                                        outerCancelled.await(); // would throw if interrupted
                                        log.add("shield finished");
                                      });
                                  log.add("unreachable");
                                })));
    inShield.await();
    outerRef.get().cancel();
    outerCancelled.countDown();
    t.join();
    assertEquals(List.of("shield finished"), log);
    assertTrue(outerRef.get().isCancelledCaught());
  }

  @Test
  void shieldsOwnCancelStillApplies() throws Exception {
    CancelScope outer =
        CancelScope.run(
            o -> {
              CancelScope shield =
                  CancelScope.run(
                      CancelScope.Options.DEFAULT.shielded(),
                      s -> {
                        s.cancel();
                        Thread.sleep(FOREVER);
                      });
              assertTrue(shield.isCancelledCaught());
            });
    assertFalse(outer.isCancelCalled());
  }

  @Test
  void shieldAbsorbsItsOwnCancellationAndThenDeliversTheOuterOne() throws Exception {
    List<String> log = new ArrayList<>();
    CancelScope outer =
        CancelScope.run(
            o -> {
              o.cancel();
              try {
                CancelScope.run(
                    CancelScope.Options.DEFAULT.shielded(),
                    s -> {
                      s.cancel();
                      Thread.sleep(FOREVER);
                    });
              } catch (CancelledException e) {
                log.add("outer delivered at shield exit");
                throw e;
              }
            });
    assertEquals(List.of("outer delivered at shield exit"), log);
    assertTrue(outer.isCancelledCaught());
  }

  @Test
  void exitIsACheckpointWhenAnOuterScopeIsCancelled() throws Exception {
    List<String> log = new ArrayList<>();
    CancelScope outer =
        CancelScope.run(
            o -> {
              CancelScope.run(s -> o.cancel()); // body returns normally
              log.add("unreachable");
            });
    assertTrue(log.isEmpty());
    assertTrue(outer.isCancelledCaught());
  }

  @Test
  void callReturnsNullWhenAbsorbed() throws Exception {
    String result =
        CancelScope.call(
            s -> {
              s.cancel();
              CancelScope.checkpoint();
              return "value";
            });
    assertNull(result);
    assertEquals("value", CancelScope.call(s -> "value"));
  }

  @Test
  void zeroTimeoutCancelsAtOnce() throws Exception {
    assertEquals(
        Optional.empty(),
        CancelScope.moveOnAfter(
            Duration.ZERO,
            s -> {
              CancelScope.checkpoint();
              return "late";
            }));
  }

  @Test
  void deadlineInThePastCancelsAtOnceInFailForm() throws Exception {
    TimeoutException e =
        assertThrows(
            TimeoutException.class,
            () ->
                CancelScope.withDeadline(
                    Instant.now().minusSeconds(1),
                    s -> {
                      Thread.sleep(FOREVER);
                      return "late";
                    }));
    assertTrue(e.getMessage().contains("timed out"), e.getMessage());
    assertNull(e.getCause(), "a timeout carries no cancellation as its cause");
  }

  @Test
  void failFormReturnsTheValueWhenInTime() throws Exception {
    assertEquals("ok", CancelScope.withTimeout(Duration.ofMinutes(5), s -> "ok"));
  }

  @Test
  void failFormCancelledByCallReturnsNullInsteadOfTimingOut() throws Exception {
    assertNull(
        CancelScope.withTimeout(
            Duration.ofMinutes(5),
            s -> {
              s.cancel();
              CancelScope.checkpoint();
              return "x";
            }));
  }

  @Test
  void currentDeadlineIsTheEarliestUpToTheNearestShield() throws Exception {
    assertEquals(Optional.empty(), CancelScope.currentDeadline());
    FakeTimer clock = new FakeTimer(); // instants convert to its time and back exactly
    Instant soon = clock.now().plusSeconds(60);
    Instant later = soon.plusSeconds(60);
    ThreadFrame.withTimer(
        clock,
        x ->
            CancelScope.run(
                CancelScope.Options.DEFAULT.withDeadline(soon),
                a ->
                    CancelScope.run(
                        CancelScope.Options.DEFAULT.withDeadline(later),
                        b -> {
                          assertEquals(soon, CancelScope.currentDeadline().orElseThrow());
                          CancelScope.run(
                              CancelScope.Options.DEFAULT.shielded(),
                              s -> assertEquals(Optional.empty(), CancelScope.currentDeadline()));
                        })));
  }

  @Test
  void currentScopeIsTheInnermost() throws Exception {
    assertEquals(Optional.empty(), CancelScope.current());
    CancelScope.run(
        CancelScope.Options.named("outer"),
        o -> {
          assertSame(o, CancelScope.current().orElseThrow());
          CancelScope.run(i -> assertSame(i, CancelScope.current().orElseThrow()));
          assertSame(o, CancelScope.current().orElseThrow());
        });
    assertEquals(Optional.empty(), CancelScope.current());
  }

  @Test
  void optionsConstructedDirectlyAreCheckedAsTheWithMethodsCheckThem() {
    IllegalArgumentException negative =
        assertThrows(
            IllegalArgumentException.class,
            () -> new CancelScope.Options("db", Duration.ofSeconds(-1), null, false, false));
    assertEquals("timeout < 0: PT-1S (CancelScope 'db')", negative.getMessage());
    IllegalArgumentException both =
        assertThrows(
            IllegalArgumentException.class,
            () -> new CancelScope.Options(null, Duration.ZERO, Instant.EPOCH, false, false));
    assertEquals("both timeout PT0S and deadline 1970-01-01T00:00:00Z set", both.getMessage());
    CancelScope.Options o = CancelScope.Options.named("io").withTimeout(Duration.ofSeconds(1));
    assertEquals(o, new CancelScope.Options("io", Duration.ofSeconds(1), null, false, false));
    assertTrue(o.shielded().shield());
    assertNull(o.withDeadline(Instant.EPOCH).timeout(), "a deadline replaces a timeout");
  }

  @Test
  void negativeTimeoutIsRejectedWithItsValue() throws Exception {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CancelScope.Options.named("db").withTimeout(Duration.ofSeconds(-1)));
    assertEquals("timeout < 0: PT-1S (CancelScope 'db')", e.getMessage());
    CancelScope.run(
        CancelScope.Options.named("open"),
        s -> {
          IllegalArgumentException e2 =
              assertThrows(
                  IllegalArgumentException.class, () -> s.setTimeout(Duration.ofMillis(-5)));
          assertEquals("timeout < 0: PT-0.005S (CancelScope 'open')", e2.getMessage());
          assertEquals(Optional.empty(), s.deadline(), "state unchanged");
        });
  }

  @Test
  void movingTheDeadlineOfAClosedScopeIsRefused() throws Exception {
    CancelScope closed = CancelScope.run(CancelScope.Options.named("done"), s -> {});
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> closed.setTimeout(Duration.ofSeconds(1)));
    assertEquals("CancelScope 'done' is closed; cannot setTimeout", e.getMessage());
    assertThrows(IllegalStateException.class, () -> closed.setDeadline(Instant.now()));
    assertThrows(IllegalStateException.class, closed::clearDeadline);
    assertEquals(Optional.empty(), closed.deadline());
  }

  @Test
  void cancelAfterCloseIsHarmless() throws Exception {
    CancelScope closed = CancelScope.run(s -> {});
    closed.cancel();
    assertTrue(closed.isCancelCalled());
    assertFalse(closed.isCancelledCaught());
    assertFalse(Thread.currentThread().isInterrupted());
  }

  @Test
  void toStringShowsNameAndState() throws Exception {
    CancelScope.run(
        CancelScope.Options.named("io"),
        s -> {
          assertEquals("CancelScope[io, OPEN]", s.toString());
          s.cancel("enough");
          assertEquals("CancelScope[io, OPEN, cancelled: enough]", s.toString());
        });
  }
}

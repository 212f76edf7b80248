package dev.lifespan.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import java.time.Duration;
import java.time.Instant;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Races between a scope's deadline, fired on the library's timer thread, and the scope's own exit
 * or a move of its deadline. The thread that leaves the scope must never keep an interrupt the
 * library caused.
 */
public final class ScopeRaces {
  private ScopeRaces() {}

  /** r1: 1 result, 2 empty (moved on), 3 CancelledException out; r2: interrupt left set. */
  static void moveOn(II_Result r, Duration timeout) {
    try {
      r.r1 = CancelScope.moveOnAfter(timeout, s -> 1).isPresent() ? 1 : 2;
    } catch (CancelledException e) {
      r.r1 = 3;
    }
    r.r2 = Thread.interrupted() ? 1 : 0;
  }

  /** A deadline firing (on the timer thread) while the body returns and the scope exits. */
  @JCStressTest
  @Outcome(id = "1, 0", expect = ACCEPTABLE, desc = "the body's result")
  @Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "the deadline fired first: moved on")
  @Outcome(id = ".*, 1", expect = FORBIDDEN, desc = "the deadline's interrupt leaked out")
  @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "its own cancellation escaped the scope")
  @State
  public static class DeadlineVsScopeExit {
    @Actor
    public void exit(II_Result r) {
      moveOn(r, Duration.ofNanos(20_000));
    }
  }

  /** {@code setDeadline} from another thread while the deadline fires and the scope exits. */
  @JCStressTest
  @Outcome(id = "[12], 0", expect = ACCEPTABLE, desc = "result or moved on, no interrupt left")
  @Outcome(id = ".*, 1", expect = FORBIDDEN, desc = "an interrupt leaked out of the scope")
  @Outcome(id = "3, .*", expect = FORBIDDEN, desc = "its own cancellation escaped the scope")
  @State
  public static class SetDeadlineVsFiring {
    volatile CancelScope scope;

    @Actor
    public void body(II_Result r) {
      try {
        r.r1 =
            CancelScope.moveOnAfter(
                        Duration.ofNanos(20_000),
                        s -> {
                          scope = s;
                          return 1;
                        })
                    .isPresent()
                ? 1
                : 2;
      } catch (CancelledException e) {
        r.r1 = 3;
      }
      r.r2 = Thread.interrupted() ? 1 : 0;
    }

    @Actor
    public void move() {
      CancelScope s = scope;
      if (s != null) {
        try {
          s.setDeadline(Instant.MIN); // at once
        } catch (IllegalStateException closed) {
          // the scope closed first: allowed
        }
      }
    }
  }
}

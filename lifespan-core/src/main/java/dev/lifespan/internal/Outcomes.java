package dev.lifespan.internal;

import dev.lifespan.App;
import dev.lifespan.App.Outcome;
import dev.lifespan.ShutdownReport;
import dev.lifespan.StartupFailedException;
import dev.lifespan.internal.ShutdownState.StopCause;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** How an application ended, from what its runner saw; see {@link App} for the rules. */
final class Outcomes {
  private Outcomes() {}

  /**
   * The result: the first failure (startup, then main body, then teardown; later ones added to it
   * as suppressed) decides a failed outcome; otherwise abandoned must-finish work, stragglers or
   * giving up make it {@link Outcome#WORK_ABANDONED}; otherwise the cause of a clean stop decides.
   * Durable work left pending or failed for good is counted, and decides nothing: what is pending
   * runs at the next start, and a must-finish task cut while running it is abandoned already.
   *
   * @param cause why the shutdown began; null if it never did
   */
  static App.Result result(
      String name,
      StopCause cause,
      StartupFailedException startupFailure,
      Throwable mainFailure,
      List<Throwable> shutdownFailures,
      List<ShutdownReport> reports,
      boolean gaveUp,
      Duration took,
      Map<Outcome, Integer> exitCodes,
      long durablePending,
      long durableFailed) {
    List<ShutdownReport> done = List.copyOf(reports);
    List<Throwable> later = new ArrayList<>(shutdownFailures);
    Throwable failure = startupFailure != null ? startupFailure : mainFailure;
    if (failure == null && !later.isEmpty()) failure = later.removeFirst();
    Outcome o;
    if (startupFailure != null) o = Outcome.STARTUP_FAILED;
    else if (failure != null) o = Outcome.FAILED;
    else if (gaveUp || !allClean(done)) o = Outcome.WORK_ABANDONED;
    else o = cause != null ? cause.cleanOutcome() : Outcome.SUCCEEDED;
    if (failure != null) {
      for (Throwable t : later) {
        if (t != failure) failure.addSuppressed(t);
      }
    }
    return new App.Result(
        name,
        o,
        exitCodes.get(o),
        failure,
        done,
        took,
        gaveUp,
        (int) Math.min(durablePending, Integer.MAX_VALUE),
        (int) Math.min(durableFailed, Integer.MAX_VALUE));
  }

  private static boolean allClean(List<ShutdownReport> reports) {
    for (ShutdownReport r : reports) {
      if (!r.clean()) return false;
    }
    return true;
  }

  /** The runner's own reports, then the unclean ones of other supervisors of the application. */
  static List<ShutdownReport> withUnclean(List<ShutdownReport> own, List<ShutdownReport> unclean) {
    List<ShutdownReport> all = new ArrayList<>(own);
    for (ShutdownReport r : unclean) {
      boolean known = false;
      for (ShutdownReport x : own) known |= x == r;
      if (!known) all.add(r);
    }
    return all;
  }
}

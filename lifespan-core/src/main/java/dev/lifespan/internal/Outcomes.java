package dev.lifespan.internal;

import dev.lifespan.App;
import dev.lifespan.App.Outcome;
import dev.lifespan.ShutdownFailedException;
import dev.lifespan.ShutdownReport;
import dev.lifespan.StartupFailedException;
import dev.lifespan.internal.ShutdownState.StopCause;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What an application's runner saw that decides how the application ended (its failures, the
 * shutdown reports of its supervisors, the durable work its layers counted), and the {@link
 * App.Result} made from it; see {@link App} for the rules.
 *
 * <p>Failures and reports are recorded by the runner thread; durable counts by the layers, from any
 * thread of the application (see {@link LayerContext}). The result is made once, by the runner
 * thread or, if the runner gives up, by the shutdown monitor while the runner thread may still
 * record: hence the volatile fields and the concurrent lists.
 */
final class Outcomes {
  private final String app;
  private final Map<Outcome, Integer> exitCodes;
  private volatile StartupFailedException startupFailure;
  private volatile Throwable mainFailure;
  private final List<Throwable> shutdownFailures = new CopyOnWriteArrayList<>();
  private final List<ShutdownReport> reports = new CopyOnWriteArrayList<>(); // the runner's own

  /** Items of durable work the layers left pending, or that failed for good. */
  final AtomicLong durablePending = new AtomicLong(), durableFailed = new AtomicLong();

  Outcomes(String app, Map<Outcome, Integer> exitCodes) {
    this.app = app;
    this.exitCodes = exitCodes;
  }

  /** Layer {@code layer} failed to start with {@code thrown}. */
  void startupFailed(String layer, Throwable thrown) {
    startupFailure = new StartupFailedException(app, layer, thrown);
  }

  void mainFailed(Throwable thrown) {
    mainFailure = thrown;
  }

  /** Something failed while shutting down: a layer's teardown, a supervisor's stop. */
  void failed(String where, Throwable thrown) {
    shutdownFailures.add(new ShutdownFailedException(app, where, thrown));
  }

  /** The runner itself failed: it cannot happen, and is counted as a failure if it does. */
  void runnerFailed(Throwable thrown) {
    shutdownFailures.add(thrown);
  }

  /** The shutdown report of a supervisor the runner stopped. */
  void report(ShutdownReport r) {
    reports.add(r);
  }

  /**
   * The result: the first failure (startup, then main body, then teardown; later ones added to it
   * as suppressed) decides a failed outcome; otherwise abandoned must-finish work, stragglers or
   * giving up make it {@link Outcome#WORK_ABANDONED}; otherwise the cause of a clean stop decides.
   * Durable work left pending or failed for good is counted, and decides nothing: what is pending
   * runs at the next start, and a must-finish task cut while running it is abandoned already.
   *
   * @param cause why the shutdown began; null if it never did
   * @param unclean the unclean reports of the application's other supervisors, added after the
   *     runner's own unless they are among them
   */
  App.Result result(StopCause cause, List<ShutdownReport> unclean, boolean gaveUp, Duration took) {
    List<ShutdownReport> done = withUnclean(List.copyOf(reports), unclean);
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
        app,
        o,
        exitCodes.get(o),
        failure,
        done,
        took,
        gaveUp,
        (int) Math.min(durablePending.get(), Integer.MAX_VALUE),
        (int) Math.min(durableFailed.get(), Integer.MAX_VALUE));
  }

  private static boolean allClean(List<ShutdownReport> reports) {
    for (ShutdownReport r : reports) {
      if (!r.clean()) return false;
    }
    return true;
  }

  private static List<ShutdownReport> withUnclean(
      List<ShutdownReport> own, List<ShutdownReport> unclean) {
    List<ShutdownReport> all = new ArrayList<>(own);
    for (ShutdownReport r : unclean) {
      boolean known = false;
      for (ShutdownReport x : own) known |= x == r;
      if (!known) all.add(r);
    }
    return List.copyOf(all);
  }
}

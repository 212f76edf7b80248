package dev.lifespan.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The shutdown's clock, on a daemon thread started by the first shutdown request: waits out the
 * drain delay, cancels the main body, repeats the current phase's progress line, cancels everything
 * at the hard deadline and gives up one kill timeout after it. Every wait is on the application's
 * timer and ends early when the runner publishes a new {@link ShutdownState}.
 *
 * <p>Nothing here waits past the hard deadline: the drain delay is shorter than the grace period
 * ({@link dev.lifespan.App.Options#validate()}), and a forced shutdown or a main body that ends by
 * itself ends the drain at once.
 */
final class ShutdownMonitor implements Runnable {
  private final AppRunner runner;
  private final ShutdownRequests requests;
  private final Timer timer;
  private final long drain, interval;

  ShutdownMonitor(
      AppRunner runner, ShutdownRequests requests, Timer timer, long drain, long interval) {
    this.runner = runner;
    this.requests = requests;
    this.timer = timer;
    this.drain = drain;
    this.interval = interval;
  }

  @Override
  public void run() {
    ShutdownState s = runner.snapshot();
    if (runner.mainScope() != null && drain > 0 && s.cause().external()) {
      runner.print(
          "draining for "
              + Progress.seconds(drain)
              + " before stopping the main body (readiness DRAINING)");
      long until = s.requestedAt() + drain;
      while (true) {
        s = runner.snapshot();
        if (s.forced() || s.gaveUp() || runner.ended() || runner.mainScope() == null) break;
        if (timer.nanoTime() - until >= 0) break;
        runner.awaitChange(s, until);
      }
    }
    ScopeNode m = runner.mainScope();
    if (m != null) {
      runner.shutdownPhase("stopping the main body", null, m);
      m.cancel("application '" + runner.name() + "' is shutting down");
    }
    String lastPhase = null;
    long lastPrint = 0;
    while (true) {
      s = runner.snapshot();
      if (runner.ended()) return;
      long now = timer.nanoTime();
      if (!s.hardReached() && now - s.hardDeadline() >= 0) {
        requests.hardDeadlineReached();
        continue;
      }
      if (s.gaveUp() || (s.hardReached() && now - s.giveUpAt() >= 0)) {
        requests.abandon();
        return;
      }
      if (!s.phase().equals(lastPhase)) {
        lastPhase = s.phase();
        lastPrint = s.phaseSince(); // the runner printed the phase when it began
      }
      if (now - lastPrint >= interval) {
        lastPrint = now;
        runner.print(Progress.waiting(s.phase(), waitingFor(s), s, now));
      }
      long next = lastPrint + interval;
      long limit = s.hardReached() ? s.giveUpAt() : s.hardDeadline();
      runner.awaitChange(s, next - limit < 0 ? next : limit);
    }
  }

  /** The running tasks below the current phase's scope, or null if it waits for no tasks. */
  private static List<TaskImpl<?>> waitingFor(ShutdownState s) {
    ScopeNode w = s.waitingOn();
    if (w == null) return null;
    List<TaskImpl<?>> tasks = new ArrayList<>();
    w.walk(
        n -> {
          if (n instanceof TaskImpl<?> t && !t.isDone()) tasks.add(t);
          return true;
        });
    return tasks;
  }
}

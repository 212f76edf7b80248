package dev.lifespan.internal;

import dev.lifespan.ShutdownReport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A supervisor's shutdown, run once, in phases: <em>cancel</em> (refuse new tasks, cancel the
 * ordinary ones), <em>grace</em> (wait for the must-finish ones until the grace period ends),
 * <em>kill</em> (cancel those too, and the must-finish work of supervisors nested in them, then
 * wait at most the kill timeout), <em>report</em> (count the outcomes, name the stragglers).
 *
 * <p>Its monitor is the supervisor's lifecycle lock: it guards whether the shutdown started and its
 * report, here, and the supervisor's fatal error and held fork failures, there. Callers after the
 * first wait on it until the report is published.
 */
final class SupervisorShutdown {
  private final SupervisorImpl sup;
  private boolean started; // guarded by this
  private ShutdownReport report; // guarded by this; set once the shutdown is done

  SupervisorShutdown(SupervisorImpl sup) {
    this.sup = sup;
  }

  /** The shutdown's report, or null if it has not ended. */
  synchronized ShutdownReport report() {
    return report;
  }

  /**
   * Runs the shutdown with the grace period ending at {@code graceEnd} on the supervisor's timer;
   * if it runs already or ran, waits for its report instead. Does not give up when the caller is
   * interrupted; restores the interrupt afterwards.
   */
  ShutdownReport runUntil(long graceEnd) {
    synchronized (this) {
      if (started) return awaitReport();
      started = true;
    }
    Timer timer = sup.timer;
    long start = timer.nanoTime(); // the report's 'took' is on the supervisor's clock
    Events.Phase phase = Events.phase(null, sup, "cancel");
    Observers.Phases observed =
        Observers.active == 0 ? null : Observers.Phases.of(sup.context, sup.observedAs(), timer);
    if (observed != null) observed.next("cancel");
    sup.shutdownBegan();
    sup.children.close();
    List<TaskImpl<?>> all = sup.children.snapshot();
    sup.cancel("supervisor '" + sup.name() + "' is shutting down");
    phase = Events.phase(phase, sup, "grace");
    if (observed != null) observed.next("grace");
    sup.children.awaitEmpty(timer, graceEnd, sup);
    phase = Events.phase(phase, sup, "kill");
    if (observed != null) observed.next("kill");
    List<String> abandoned = new ArrayList<>();
    List<String> nested = new ArrayList<>(); // must-finish work in supervisors inside them
    String why = "the grace period of supervisor '" + sup.name() + "' ended";
    for (TaskImpl<?> t : sup.children.snapshot()) {
      if (t.shield) {
        abandoned.add(t.name());
        t.endGrace(why, nested);
      } else {
        t.cancel(why);
      }
    }
    sup.children.awaitEmpty(timer, timer.after(sup.killTimeout), sup);
    phase = Events.phase(phase, sup, "report");
    if (observed != null) observed.next("report");
    Collections.reverse(abandoned); // oldest first
    abandoned.addAll(nested);
    ShutdownReport r = summarize(all, abandoned, start, observed);
    AppContext context = sup.context;
    if (context != null && !r.clean()) { // the application counts it, wherever this was opened
      context.uncleanReports.add(r);
      for (TaskImpl<?> t : all) {
        if (!t.isDone()) context.stragglers.add(t);
      }
    }
    sup.reportHeldForks();
    Events.phase(phase, sup, null);
    if (observed != null) observed.next(null);
    if (sup.parent != null) sup.parent.detach(sup);
    sup.shutdownEnded();
    Roots.ended(sup);
    synchronized (this) {
      report = r;
      notifyAll();
    }
    return r;
  }

  /** Waits, holding this monitor, until the report is published. */
  private ShutdownReport awaitReport() {
    boolean interrupted = false;
    while (report == null) {
      try {
        wait();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    return report;
  }

  private ShutdownReport summarize(
      List<TaskImpl<?>> all, List<String> abandoned, long start, Observers.Phases observed) {
    int completed = 0, cancelled = 0, failed = 0;
    List<ShutdownReport.Straggler> stragglers = new ArrayList<>();
    long now = System.nanoTime(); // tasks' ages are real time, as in task dumps
    for (TaskImpl<?> t : all) {
      switch (t.outcome()) {
        case TaskImpl.SUCCESS -> completed++;
        case TaskImpl.CANCELLED -> cancelled++;
        case TaskImpl.FAILED -> failed++;
        default -> {
          Events.straggler(sup, t, now - t.spawnedAt);
          if (observed != null) {
            Observers.straggler(
                observed.observers(),
                observed.owner(),
                t.name(),
                Duration.ofNanos(now - t.spawnedAt),
                t.shield);
          }
          stragglers.add(
              new ShutdownReport.Straggler(
                  t.name(),
                  Duration.ofNanos(now - t.spawnedAt),
                  t.shield,
                  Arrays.asList(t.thread.getStackTrace())));
        }
      }
    }
    return new ShutdownReport(
        sup.name(),
        completed,
        cancelled,
        failed,
        abandoned,
        stragglers,
        Duration.ofNanos(sup.timer.nanoTime() - start));
  }
}

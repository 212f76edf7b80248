package dev.lifespan.internal;

import dev.lifespan.internal.ShutdownState.StopCause;

/**
 * Shutdown requests to an {@link AppRunner}, from any thread: the first starts the shutdown (and
 * its {@link ShutdownMonitor}); a second SIGINT forces it, a third gives up; a second SIGTERM says
 * how much time is left. Also the monitor's two deadlines: the hard deadline and giving up.
 *
 * <p>Each request is one transition of the runner's {@link Lifecycle}, decided under its lock; what
 * follows from it (printing, cancelling scopes, starting the monitor) happens after, without a
 * lock.
 */
final class ShutdownRequests {
  private final AppRunner runner;
  private final Lifecycle life;
  private final Timer timer;
  private final long grace, teardown, kill, drain, interval;

  ShutdownRequests(
      AppRunner runner,
      Timer timer,
      long grace,
      long teardown,
      long kill,
      long drain,
      long interval) {
    this.runner = runner;
    this.life = runner.life;
    this.timer = timer;
    this.grace = grace;
    this.teardown = teardown;
    this.kill = kill;
    this.drain = drain;
    this.interval = interval;
  }

  /** A signal arrived: SIGINT if {@code interrupt}, else SIGTERM. */
  void signal(boolean interrupt) {
    if (runner.ended()) return;
    if (stop(interrupt ? StopCause.SIGINT : StopCause.SIGTERM)) return;
    String sig = interrupt ? "SIGINT" : "SIGTERM";
    ShutdownState s = life.get();
    if (interrupt && !s.forced()) {
      runner.print(
          sig + " received again: forcing the shutdown (must-finish work and shields cancelled)");
      force();
    } else if (interrupt) {
      runner.print(sig + " received a third time: giving up at once");
      life.update(ShutdownState::withGaveUp);
    } else {
      long now = timer.nanoTime();
      runner.print(
          sig
              + " received again: already shutting down, "
              + Progress.timeLeft(s, now)
              + ", exit in at most "
              + Progress.seconds(Math.max(0, s.giveUpAt() - now))
              + "; a second SIGINT forces");
    }
  }

  /** Starts the shutdown if it has not started; returns whether this call started it. */
  boolean stop(StopCause why) {
    long now = timer.nanoTime();
    ShutdownState s = life.stop(why, now, grace, teardown, kill);
    if (s == null) return false;
    boolean drains = drain > 0 && why.external() && runner.mainScope() != null;
    runner.print(
        why.announcement
            + ": shutting down; readiness DRAINING; grace "
            + Progress.seconds(grace)
            + (drains ? " (drain delay " + Progress.seconds(drain) + " included)" : "")
            + ", hard deadline in "
            + Progress.seconds(s.hardDeadline() - now)
            + ", exit in at most "
            + Progress.seconds(s.giveUpAt() - now));
    runner.startup.cancel();
    Thread.ofPlatform()
        .daemon()
        .name("app '" + runner.name() + "' shutdown")
        .start(new ShutdownMonitor(runner, this, timer, drain, interval));
    return true;
  }

  /** Second SIGINT: cancels must-finish work and shields now; one kill timeout for the rest. */
  private void force() {
    long now = timer.nanoTime();
    if (life.updateIf(x -> !x.forced(), x -> x.force(now)) == null) return;
    for (ScopeNode s : runner.forceTargets()) s.forceCancel("shutdown forced");
  }

  /** For the monitor: the hard deadline passed; cancel everything, shields included. */
  void hardDeadlineReached() {
    life.update(ShutdownState::withHardReached);
    runner.print("hard deadline reached: cancelling everything still running, shields included");
    ScopeNode r = runner.root();
    String why = "hard deadline of application '" + runner.name() + "'";
    if (r != null) r.forceCancel(why);
    for (TaskImpl<?> t : runner.context().stragglers) t.forceCancel(why); // outlived their own
  }

  /** For the monitor: gives up waiting; prints what still runs and ends with the result so far. */
  void abandon() {
    Thread t = runner.thread();
    StringBuilder sb =
        new StringBuilder("giving up: the application has not ended; still running:");
    sb.append("\n")
        .append(runner.dumpGivingUp().toText().stripTrailing().indent(2).stripTrailing());
    if (t != null && t.isAlive()) {
      sb.append("\n  runner thread '").append(t.getName()).append("' (").append(life.get().phase());
      sb.append(")");
      for (StackTraceElement e : t.getStackTrace()) sb.append("\n      at ").append(e);
    }
    runner.print(sb.toString());
    runner.finish(true);
  }
}

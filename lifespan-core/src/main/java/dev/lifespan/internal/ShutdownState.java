package dev.lifespan.internal;

import dev.lifespan.App;

/**
 * Everything the application runner knows about its lifecycle at one moment, as one immutable
 * value: {@link AppRunner} publishes each new state through one {@code volatile} field, so readers
 * (readiness probes, {@code toString}, the monitor, progress lines) never lock and never see half
 * of a transition.
 *
 * <p>Times are nanoTime values of the application's timer; {@code 0} where not yet set. Before the
 * first shutdown request {@link #cause} is null. The budget of a shutdown requested at {@code T}:
 *
 * <pre>
 *   graceEnd     = T + grace                 must-finish work runs until here (drain included)
 *   hardDeadline = T + grace + teardown      everything is cancelled, shields included
 *   giveUpAt     = hardDeadline + kill       the runner stops waiting and ends anyway
 * </pre>
 *
 * A forced shutdown (second SIGINT) moves {@code graceEnd} to the moment it was forced and {@code
 * hardDeadline} to at most one kill timeout later; nothing ever moves later.
 *
 * @param state readiness and liveness
 * @param cause why the shutdown began; null before it did
 * @param requestedAt when it began
 * @param graceEnd see above
 * @param hardDeadline see above
 * @param kill the kill timeout, in nanoseconds
 * @param forced whether a second SIGINT forced it
 * @param hardReached whether the hard deadline has passed and everything was cancelled
 * @param gaveUp whether the runner gave up waiting (a third SIGINT, or {@code giveUpAt} passed)
 * @param phase what the runner does now, for progress lines
 * @param phaseSince when {@code phase} began
 * @param waitingOn the scope whose tasks the phase waits for (a supervisor, the main body), or null
 */
record ShutdownState(
    App.State state,
    StopCause cause,
    long requestedAt,
    long graceEnd,
    long hardDeadline,
    long kill,
    boolean forced,
    boolean hardReached,
    boolean gaveUp,
    String phase,
    long phaseSince,
    ScopeNode waitingOn) {

  /** Why a shutdown began, carried from the signal to the outcome. */
  enum StopCause {
    SIGINT("SIGINT received"),
    SIGTERM("SIGTERM received"),
    JVM_EXIT("JVM shutting down"),
    REQUESTED("shutdown requested"),
    BODY_ENDED("main body ended"),
    FAILURE("a failure stops the application");

    final String announcement;

    StopCause(String announcement) {
      this.announcement = announcement;
    }

    /** Whether this cause comes from outside and leaves the main body its drain delay. */
    boolean external() {
      return this == SIGINT || this == SIGTERM || this == JVM_EXIT || this == REQUESTED;
    }

    /** The outcome of a clean shutdown with this cause. */
    App.Outcome cleanOutcome() {
      return switch (this) {
        case SIGINT -> App.Outcome.INTERRUPTED;
        case SIGTERM, JVM_EXIT -> App.Outcome.TERMINATED;
        default -> App.Outcome.SUCCEEDED;
      };
    }
  }

  static ShutdownState starting(long now) {
    return new ShutdownState(
        App.State.STARTING, null, 0, 0, 0, 0, false, false, false, "starting", now, null);
  }

  boolean stopping() {
    return cause != null;
  }

  long giveUpAt() {
    return hardDeadline + kill;
  }

  ShutdownState withState(App.State s) {
    return new ShutdownState(
        s,
        cause,
        requestedAt,
        graceEnd,
        hardDeadline,
        kill,
        forced,
        hardReached,
        gaveUp,
        phase,
        phaseSince,
        waitingOn);
  }

  /** The first shutdown request, at {@code now}. */
  ShutdownState stop(StopCause why, long now, long grace, long teardown, long killNanos) {
    return new ShutdownState(
        state == App.State.STOPPED ? state : App.State.DRAINING,
        why,
        now,
        now + grace,
        now + grace + teardown,
        killNanos,
        false,
        false,
        false,
        phase,
        phaseSince,
        waitingOn);
  }

  /** Forced at {@code now}: the grace ends now, the hard deadline at most one kill timeout on. */
  ShutdownState force(long now) {
    long hard = Math.min(hardDeadline - now, kill) + now;
    return new ShutdownState(
        state,
        cause,
        requestedAt,
        Math.min(graceEnd - now, 0) + now,
        hard,
        kill,
        true,
        hardReached,
        gaveUp,
        phase,
        phaseSince,
        waitingOn);
  }

  ShutdownState withHardReached() {
    return new ShutdownState(
        state,
        cause,
        requestedAt,
        graceEnd,
        hardDeadline,
        kill,
        forced,
        true,
        gaveUp,
        phase,
        phaseSince,
        waitingOn);
  }

  ShutdownState withGaveUp() {
    return new ShutdownState(
        state,
        cause,
        requestedAt,
        graceEnd,
        hardDeadline,
        kill,
        forced,
        hardReached,
        true,
        phase,
        phaseSince,
        waitingOn);
  }

  ShutdownState inPhase(String p, long now, ScopeNode on) {
    return new ShutdownState(
        state,
        cause,
        requestedAt,
        graceEnd,
        hardDeadline,
        kill,
        forced,
        hardReached,
        gaveUp,
        p,
        now,
        on);
  }
}

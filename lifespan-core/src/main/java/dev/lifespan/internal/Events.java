package dev.lifespan.internal;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * The library's JDK Flight Recorder events ({@code dev.lifespan.*}, category "Lifespan"), and one
 * method per place that emits them, so that each hook in the library is a single call.
 *
 * <p>Cost when no recording has them enabled: each method creates a fresh event and asks it {@link
 * Event#shouldCommit()} (instant events) or {@link Event#isEnabled()} (before {@link
 * Event#begin()}) before computing any field. Until JFR instruments the class that is the base
 * class's {@code return false}; afterwards a read of the event type's configuration. The event does
 * not escape, so C2 removes the allocation; names and messages are only built when the event is
 * recorded. A static {@code EventType} was not used: looking it up initialises JFR's metadata
 * repository at class initialisation even when nothing is ever recorded.
 *
 * <p>Before any of that, each method returns at once unless {@link FlightRecorder#isInitialized()}:
 * the first event object created in a JVM makes the JDK initialise JFR's metadata (the type library
 * of all its events, the event class's instrumentation), about 100 ms of CPU even when no recording
 * ever runs, and an idle application would pay it on its way out, at the first cancelled scope
 * (BENCHMARKS.md section 6). The recorder is initialised in every JVM in which a recording was
 * created ({@code -XX:StartFlightRecording}, {@code jcmd JFR.start}, {@code new Recording()}), so
 * no recording misses an event; when it is, the guard is one read of a static field.
 */
final class Events {
  private Events() {}

  /** No recording was ever created in this JVM: no event can be recorded. */
  private static boolean off() {
    return !FlightRecorder.isInitialized();
  }

  /** {@link ScopeNode#cancel(CancelReason)}: the first cancellation of {@code s} took effect. */
  static void scopeCancelled(ScopeNode s, CancelReason r) {
    if (off()) return;
    ScopeCancelled e = new ScopeCancelled();
    if (!e.shouldCommit()) return;
    e.scope = s.name();
    e.kind = s.kind();
    e.reason = r.message();
    e.deadline = r.deadline();
    e.commit();
  }

  /** {@link TaskImpl} ended with a failure. */
  static void taskFailed(TaskImpl<?> t, Throwable failure) {
    if (off()) return;
    TaskFailed e = new TaskFailed();
    if (!e.shouldCommit()) return;
    e.task = t.name();
    e.owner = t.owner().name();
    e.exceptionClass = failure.getClass().getName();
    e.message = failure.getMessage();
    e.commit();
  }

  /**
   * Ends the shutdown phase {@code previous} (null: none) of supervisor {@code s} and begins the
   * phase {@code next} (null: none). Returns the phase begun, or null if none or not recorded.
   */
  static Phase phase(Phase previous, SupervisorImpl s, String next) {
    return phase(previous, s.name(), next);
  }

  /**
   * Ends {@code previous} (if any) and begins phase {@code next} (if non-null) of {@code owner}.
   */
  static Phase phase(Phase previous, String owner, String next) {
    if (previous != null) {
      previous.end();
      if (previous.shouldCommit()) previous.commit();
    }
    if (next == null || off()) return null;
    Phase e = new Phase();
    if (!e.isEnabled()) return null;
    e.supervisor = owner;
    e.phase = next;
    e.begin();
    return e;
  }

  /** Supervisor {@code s}'s shutdown gave up waiting for task {@code t}. */
  static void straggler(SupervisorImpl s, TaskImpl<?> t, long ageNanos) {
    if (off()) return;
    Straggler e = new Straggler();
    if (!e.shouldCommit()) return;
    e.supervisor = s.name();
    e.task = t.name();
    e.age = ageNanos;
    e.mustFinish = t.shield;
    e.commit();
  }

  @Name("dev.lifespan.TaskFailed")
  @Label("Task Failed")
  @Category("Lifespan")
  @Description("A task ended with a failure (not a cancellation)")
  @StackTrace(false) // the task thread's last frames; the exception's own trace is what matters
  static final class TaskFailed extends Event {
    @Label("Task")
    String task;

    @Label("Owner")
    @Description("The task group or supervisor the task ran in")
    String owner;

    @Label("Exception Class")
    String exceptionClass;

    @Label("Message")
    String message;
  }

  @Name("dev.lifespan.ScopeCancelled")
  @Label("Scope Cancelled")
  @Category("Lifespan")
  @Description(
      "A scope, task group, task or supervisor was cancelled; the stack is the canceller's")
  static final class ScopeCancelled extends Event {
    @Label("Scope")
    String scope;

    @Label("Kind")
    @Description("CancelScope, TaskGroup, Task or Supervisor")
    String kind;

    @Label("Reason")
    String reason;

    @Label("By Deadline")
    boolean deadline;
  }

  /** A duration event: one per phase of a supervisor's or an application's shutdown. */
  @Name("dev.lifespan.ShutdownPhase")
  @Label("Shutdown Phase")
  @Category("Lifespan")
  @Description(
      "A phase of a supervisor's shutdown: cancel (ordinary tasks), grace (waiting for"
          + " must-finish tasks), kill (cancelling the rest and waiting), report; or of an"
          + " application's: drain, stop main, stop supervisor 'x', tear down layer 'x'")
  static final class Phase extends Event {
    @Label("Supervisor or Application")
    @Description("The supervisor's name, or 'app ' and the application's name")
    String supervisor;

    @Label("Phase")
    String phase;
  }

  @Name("dev.lifespan.Straggler")
  @Label("Straggler")
  @Category("Lifespan")
  @Description("A task still running when its supervisor's shutdown gave up waiting for it")
  @StackTrace(false) // it would be the shutdown's thread, not the straggler's
  static final class Straggler extends Event {
    @Label("Supervisor")
    String supervisor;

    @Label("Task")
    String task;

    @Label("Age")
    @Timespan(Timespan.NANOSECONDS)
    long age;

    @Label("Must Finish")
    boolean mustFinish;
  }
}

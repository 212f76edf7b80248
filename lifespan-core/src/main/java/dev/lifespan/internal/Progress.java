package dev.lifespan.internal;

import dev.lifespan.App;
import java.util.List;
import java.util.function.Consumer;

/**
 * The application runner's output: one line per call to the sink, never two at once, each {@code [
 * 1.25 s] orders: message} — seconds since the application started on its clock, its name, the
 * message. The wording of every waiting line is the same: {@code <phase>: waiting for N tasks (M
 * must-finish): 'a', 'b'; 3.2 s of grace left}.
 *
 * <p>Numbers are formatted with integer arithmetic, not {@code String.format}: the first format
 * call in a JVM loads some 90 classes (about 20 ms), and the first shutdown line is often the first
 * formatted text of an idle service.
 */
final class Progress {
  /** How many task names a line shows before "+N more". */
  static final int NAMES_SHOWN = 10;

  private final String app;
  private final Consumer<String> sink;
  private final Timer timer;
  private final long startedAt;
  private boolean ended; // guarded by this: the last line was printed

  Progress(String app, Consumer<String> sink, Timer timer, long startedAt) {
    this.app = app;
    this.sink = sink;
    this.timer = timer;
    this.startedAt = startedAt;
  }

  /**
   * Prints {@code message} as one line, unless the last line was printed: nothing follows it, not a
   * signal's reply nor a repeated progress line computed while the application ended (regressions:
   * a "tearing down" line, and under a storm of signals "SIGTERM received again", once followed the
   * "stopped" line). A sink that throws is replaced by {@code System.err}.
   */
  void print(String message) {
    synchronized (this) {
      if (!ended) write(message);
    }
  }

  /**
   * Prints the last line, once; later lines are dropped, including one the sink causes while it
   * takes this one (it is called holding this object's lock, which its thread may take again).
   */
  void printLast(String message) {
    synchronized (this) {
      if (ended) return;
      ended = true;
      write(message);
    }
  }

  /** Called holding this object's lock, so the clock is read in order: times never go back. */
  private void write(String message) {
    String out = stamp(timer.nanoTime() - startedAt) + app + ": " + message;
    try {
      sink.accept(out);
    } catch (RuntimeException e) {
      System.err.println(out);
    }
  }

  /** {@code [ 1.25 s] }: seconds with two decimals, right-aligned in six characters. */
  static String stamp(long nanos) {
    long hundredths = Math.max(0, nanos) / 10_000_000;
    String s = hundredths / 100 + "." + (hundredths % 100 < 10 ? "0" : "") + hundredths % 100;
    return "[" + " ".repeat(Math.max(0, 6 - s.length())) + s + " s] ";
  }

  /** {@code nanos} as seconds with one decimal ("12.3 s"), rounded half up. */
  static String seconds(long nanos) {
    long tenths = Math.round(nanos / 1e8);
    long abs = Math.abs(tenths);
    return (tenths < 0 ? "-" : "") + abs / 10 + "." + abs % 10 + " s";
  }

  static String millis(long nanos) {
    return (nanos / 1_000_000) + " ms";
  }

  /** Appends {@code : 'a', 'b', +3 more} for up to {@link #NAMES_SHOWN} names. */
  static void appendNames(StringBuilder sb, List<String> names) {
    int shown = Math.min(names.size(), NAMES_SHOWN);
    for (int i = 0; i < shown; i++)
      sb.append(i == 0 ? ": '" : ", '").append(names.get(i)).append('\'');
    if (names.size() > shown) sb.append(", +").append(names.size() - shown).append(" more");
  }

  /**
   * What a waiting phase waits for ({@code tasks}; null if it waits for none), and how long it may
   * still wait; see the class comment.
   */
  static String waiting(String phase, List<TaskImpl<?>> tasks, ShutdownState s, long now) {
    StringBuilder sb = new StringBuilder(phase);
    if (tasks == null) return sb.append("; ").append(timeLeft(s, now)).toString();
    long mustFinish = tasks.stream().filter(t -> t.shield).count();
    sb.append(": waiting for ").append(tasks.size()).append(tasks.size() == 1 ? " task" : " tasks");
    if (mustFinish > 0) sb.append(" (").append(mustFinish).append(" must-finish)");
    appendNames(sb, tasks.stream().map(TaskImpl::name).toList());
    return sb.append("; ").append(timeLeft(s, now)).toString();
  }

  /** The first line of a supervisor's stop: what is cancelled and what is waited for. */
  static String stopping(String phase, List<TaskImpl<?>> tasks, ShutdownState s, long now) {
    List<String> mustFinish = tasks.stream().filter(t -> t.shield).map(TaskImpl::name).toList();
    long ordinary = tasks.size() - mustFinish.size();
    StringBuilder sb = new StringBuilder(phase).append(": ");
    if (ordinary > 0) {
      sb.append("cancelling ").append(ordinary).append(ordinary == 1 ? " task" : " tasks");
      if (!mustFinish.isEmpty()) sb.append(", ");
    }
    if (!mustFinish.isEmpty()) {
      sb.append("waiting for ").append(mustFinish.size()).append(" must-finish");
      appendNames(sb, mustFinish);
      sb.append("; ").append(timeLeft(s, now));
    }
    return sb.toString();
  }

  /** {@code 3.2 s of grace left}, or, past the grace, the time to the hard deadline. */
  static String timeLeft(ShutdownState s, long now) {
    if (!s.stopping()) return "no shutdown requested";
    if (!s.forced() && s.graceEnd() - now > 0)
      return seconds(s.graceEnd() - now) + " of grace left";
    if (s.hardDeadline() - now > 0) {
      return seconds(s.hardDeadline() - now) + " to the hard deadline";
    }
    return seconds(Math.max(0, s.giveUpAt() - now)) + " until the runner gives up";
  }

  /** The last line: how it ended, what was abandoned, and the durable work left or failed. */
  static String stopped(App.Result r) {
    StringBuilder sb = new StringBuilder("stopped");
    if (!r.shutdownTime().isZero()) {
      sb.append(' ')
          .append(millis(r.shutdownTime().toNanos()))
          .append(" after the shutdown request");
    }
    sb.append(": ").append(r.outcome()).append(", exit code ").append(r.exitCode());
    List<String> abandoned = r.abandoned();
    if (!abandoned.isEmpty()) {
      sb.append("; ")
          .append(abandoned.size())
          .append(abandoned.size() == 1 ? " must-finish task" : " must-finish tasks")
          .append(" abandoned at the end of the grace period");
      appendNames(sb, abandoned);
    }
    int pending = r.durablePending();
    if (pending > 0) {
      sb.append("; ")
          .append(pending)
          .append(pending == 1 ? " durable entry" : " durable entries")
          .append(" left pending for the next start");
    }
    int failedForGood = r.durableFailed();
    if (failedForGood > 0) {
      sb.append("; ")
          .append(failedForGood)
          .append(failedForGood == 1 ? " durable entry" : " durable entries")
          .append(" failed for good");
    }
    int stragglers = r.stragglers().size();
    if (stragglers > 0) {
      sb.append("; ").append(stragglers).append(stragglers == 1 ? " straggler" : " stragglers");
      List<String> names = new java.util.ArrayList<>();
      for (var x : r.stragglers()) names.add(x.name());
      appendNames(sb, names);
    }
    if (r.gaveUp()) sb.append(" (gave up waiting)");
    return sb.toString();
  }

  /** {@code failure:} and the stack trace of {@code t}: printed just before the last line. */
  static String failure(Throwable t) {
    var w = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(w));
    return "failure:\n" + w.toString().stripTrailing();
  }

  /** {@code <message> (<innermost cause's class>)}: a startup failure in one line. */
  static String oneLine(Throwable t) {
    Throwable root = t;
    for (int i = 0; root.getCause() != null && root.getCause() != root && i < 16; i++) {
      root = root.getCause();
    }
    String message = t.getMessage() != null ? t.getMessage() : t.getClass().getName();
    int nl = message.indexOf('\n');
    if (nl >= 0) message = message.substring(0, nl).stripTrailing() + " ...";
    return message + " (" + root.getClass().getSimpleName() + ")";
  }
}

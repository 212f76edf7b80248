package dev.lifespan;

import dev.lifespan.internal.ScopeNode;
import dev.lifespan.internal.Scopes;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * A region of code on one thread that can be cancelled as a unit, by a call or by a deadline.
 *
 * <p>A scope is opened around a lambda and closed when the lambda ends; the lambda receives the
 * scope, so that it can cancel it, move its deadline, or hand it to another thread that may cancel
 * it:
 *
 * {@snippet :
 * Optional<Report> report = CancelScope.moveOnAfter(Duration.ofSeconds(2), scope -> {
 *     return slowReport();            // cancelled after two seconds: the result is empty
 * });
 *
 * Report strict = CancelScope.withTimeout(Duration.ofSeconds(2), scope -> slowReport());
 *                                     // cancelled after two seconds: TimeoutException
 * }
 *
 * <p>Scopes nest. A scope opened inside another scope on the same thread is its child; a {@link
 * TaskGroup} is itself a scope, and its tasks run under it, whatever thread spawned them.
 * Cancelling a scope therefore reaches every scope and every task below it.
 *
 * <h2>Cancellation</h2>
 *
 * Cancelling a scope interrupts every thread running inside it or inside a task below it, unless
 * the thread is inside a shielded scope below the cancelled one. Blocking JDK calls then throw
 * {@link InterruptedException} (or {@code ClosedByInterruptException}, {@code
 * InterruptedIOException}).
 *
 * <p>Cancellation is <em>level-triggered</em>: while the innermost scope of a thread is cancelled,
 * every library checkpoint ({@link #checkpoint()}, {@link Task#join()}, task group joins, scope
 * exits) throws {@link CancelledException} and sets the thread's interrupt flag again, even if user
 * code caught the first exception and cleared the flag. It ends only when the exception reaches a
 * scope boundary that absorbs it.
 *
 * <p>A scope <em>absorbs</em> a cancellation exception ({@code CancelledException}, an
 * interruption, or an exception caused by one, but never a {@link TimeoutException} or an exception
 * caused by one) that reaches its boundary when the scope itself was cancelled and no cancelled
 * scope outside it is visible to the thread; it then clears the interrupt it caused, reports {@link
 * #isCancelledCaught()}, and returns normally. Otherwise the exception propagates unchanged.
 * Nothing else turns cancellation into a normal return. Other exceptions, checked or not, always
 * come out of the scope unchanged.
 *
 * <p>Leaving a scope is itself a checkpoint: if a cancellation is visible outside the scope when
 * its body returns (an outer scope was cancelled, or a shield ends inside a cancelled scope), the
 * exit throws that {@code CancelledException}. When no cancellation is visible outside, no
 * interrupt the library caused survives the exit.
 *
 * <h2>Deadlines</h2>
 *
 * A scope may have a deadline, given absolute ({@link Options#withDeadline(Instant)}, {@link
 * #setDeadline(Instant)}) or relative ({@link Options#withTimeout(Duration)}: from entry; {@link
 * #setTimeout(Duration)}: from the call). At the deadline the scope cancels itself. The deadline
 * may be moved or removed from any thread while the scope is open. Deadlines are watched on a
 * monotonic clock by one shared timer thread; a deadline that never fires costs no thread and no
 * allocation. <em>Move-on</em> forms ({@link #moveOnAfter}, {@link #moveOnAt}) return an empty
 * result when the deadline cancels the body; <em>fail</em> forms ({@link #withTimeout}, {@link
 * #withDeadline}) throw {@link TimeoutException}, because a timeout is an error for the caller. Any
 * {@link Instant} is a valid deadline and any non-negative {@link Duration} a valid timeout: one in
 * the past, even {@link Instant#MIN}, cancels at once; one far in the future, even {@link
 * Instant#MAX}, never fires (deadlines are kept within about 146 years of now, where their
 * arithmetic is exact, and {@link #deadline()} reports the kept value).
 *
 * <h2>Shields</h2>
 *
 * A {@linkplain Options#shielded() shielded} scope is not reached by the cancellation of any scope
 * outside it, so cleanup and must-finish work inside it can block. Its own deadline and its own
 * {@link #cancel()} still apply. Entering a shield clears an interrupt the library delivered for an
 * outer cancellation; leaving it while an outer scope is cancelled throws that cancellation at
 * once.
 *
 * <h2>Threads and misuse</h2>
 *
 * A scope is entered and left by one thread, the one that opened it; the lambda makes other orders
 * impossible to write. {@link #cancel()}, the deadline methods and the queries may be called from
 * any thread. Violations throw {@link IllegalStateException} naming the scope and leave its state
 * unchanged; null arguments throw {@link NullPointerException} naming the parameter; a negative
 * timeout throws {@link IllegalArgumentException} with its value.
 *
 * <h2>Memory consistency effects</h2>
 *
 * Actions in a thread before {@link #cancel()} happen-before the cancelled thread observes the
 * cancellation (its {@code CancelledException} or {@code InterruptedException}).
 */
public sealed interface CancelScope permits ScopeNode {

  // ---- opening scopes

  /** Runs {@code body} in a new scope and returns the closed scope, for its introspection. */
  static <X extends Throwable> CancelScope run(ScopedRunnable<? super CancelScope, X> body)
      throws X {
    return run(Options.DEFAULT, body);
  }

  /**
   * Runs {@code body} in a new scope configured by {@code options}; returns the closed scope.
   *
   * @throws X what the body threw, unchanged, unless the scope absorbed it as its own cancellation
   * @throws CancelledException when an outer scope is cancelled
   */
  static <X extends Throwable> CancelScope run(
      Options options, ScopedRunnable<? super CancelScope, X> body) throws X {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(body, "body");
    ScopeNode scope = open(options);
    scope.runBody(
        s -> {
          body.run(s);
          return null;
        });
    return scope;
  }

  /**
   * Runs {@code body} in a new scope and returns its result, or null if the scope absorbed its own
   * cancellation.
   */
  static <T, X extends Throwable> T call(ScopedCallable<? super CancelScope, ? extends T, X> body)
      throws X {
    return call(Options.DEFAULT, body);
  }

  /**
   * Runs {@code body} in a new scope configured by {@code options} and returns its result, or null
   * if the scope absorbed its own cancellation.
   */
  static <T, X extends Throwable> T call(
      Options options, ScopedCallable<? super CancelScope, ? extends T, X> body) throws X {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(body, "body");
    return open(options).runBody(body);
  }

  /**
   * Runs {@code body} with a timeout and <em>moves on</em> when it is reached: the result is empty
   * if the scope was cancelled (by its deadline or by {@link #cancel()}) and absorbed that
   * cancellation, and also when the body returned null.
   */
  static <T, X extends Throwable> Optional<T> moveOnAfter(
      Duration timeout, ScopedCallable<? super CancelScope, ? extends T, X> body) throws X {
    Objects.requireNonNull(body, "body");
    return Optional.ofNullable(Scopes.withTimeoutAtEntry(timeout).runBody(body));
  }

  /** Like {@link #moveOnAfter}, with an absolute deadline. */
  static <T, X extends Throwable> Optional<T> moveOnAt(
      Instant deadline, ScopedCallable<? super CancelScope, ? extends T, X> body) throws X {
    return Optional.ofNullable(call(Options.DEFAULT.withDeadline(deadline), body));
  }

  /**
   * Runs {@code body} with a timeout and <em>fails</em> when it is reached.
   *
   * @return the body's result; null if the body was cancelled by {@link #cancel()} instead
   * @throws TimeoutException if the deadline cancelled the body and the scope absorbed that
   *     cancellation. It has no cause; what was suppressed in the absorbed cancellation (the
   *     exception of a call that {@link CancelHooks} ended) is suppressed in it. It is a failure
   *     wherever it goes: out of a shield into a cancelled scope, out of a task whose group is
   *     cancelled, into {@link Task#cancelAndWait}; no scope absorbs it, and nothing takes it for a
   *     cancellation
   */
  static <T, X extends Throwable> T withTimeout(
      Duration timeout, ScopedCallable<? super CancelScope, ? extends T, X> body)
      throws X, TimeoutException {
    Objects.requireNonNull(body, "body");
    return Scopes.callOrFail(Scopes.withTimeoutAtEntry(timeout), body);
  }

  /** Like {@link #withTimeout}, with an absolute deadline. */
  static <T, X extends Throwable> T withDeadline(
      Instant deadline, ScopedCallable<? super CancelScope, ? extends T, X> body)
      throws X, TimeoutException {
    Objects.requireNonNull(body, "body");
    return Scopes.callOrFail(open(Options.DEFAULT.withDeadline(deadline)), body);
  }

  private static ScopeNode open(Options options) {
    return Scopes.open(
        options.name(),
        options.shield(),
        options.interruptFree(),
        options.timeout(),
        options.deadline());
  }

  // ---- the current thread

  /**
   * Throws {@link CancelledException} if the calling thread's innermost scope is cancelled (and
   * sets the thread's interrupt flag again); otherwise returns at once. Call it in long loops that
   * make no blocking calls.
   */
  static void checkpoint() {
    Scopes.checkpoint();
  }

  /**
   * Sleeps for {@code duration} on the scope's clock, as a checkpoint: throws {@link
   * CancelledException} at once, or as soon as, the calling thread's scope is cancelled. Unlike
   * {@link Thread#sleep}, an interrupt that the library did not cause ends it with a {@code
   * CancelledException} whose {@code scopeName()} is null, the flag kept.
   *
   * @throws IllegalArgumentException if {@code duration} is negative
   */
  static void sleep(Duration duration) {
    Scopes.sleep(duration);
  }

  /** The innermost open scope of the calling thread, if any. */
  static Optional<CancelScope> current() {
    return Optional.ofNullable(Scopes.current());
  }

  /**
   * The earliest deadline that applies to the calling thread: the minimum over its open scopes, up
   * to and including the nearest shield. Pass what remains of it to APIs with their own timeouts
   * (JDBC, HTTP clients).
   */
  static Optional<Instant> currentDeadline() {
    return Scopes.currentDeadline();
  }

  // ---- one scope

  /** The scope's name, as given in its {@link Options}, or a generated one. */
  String name();

  /**
   * Cancels this scope: every thread inside it, or inside a task below it, that is not protected by
   * a shield below this scope is interrupted and sees {@link CancelledException} at its next
   * checkpoint. Idempotent; the first cancellation's reason is kept. Callable from any thread at
   * any time, before or after the scope closed.
   */
  void cancel();

  /** Like {@link #cancel()}, with a reason that the resulting {@link CancelledException} shows. */
  void cancel(String reason);

  /** Whether this scope was cancelled, by a call or by its deadline. */
  boolean isCancelCalled();

  /** Whether this scope absorbed its own cancellation when its body ended. */
  boolean isCancelledCaught();

  /** Whether this scope is a shield against the cancellation of outer scopes. */
  boolean isShielded();

  /** This scope's own deadline, if it has one. */
  Optional<Instant> deadline();

  /**
   * Registers {@code action} to run once when cancellation reaches this scope — by {@link
   * #cancel()}, by its deadline, or by the cancellation of an outer scope that no shield at or
   * below the outer scope stops — or at once, on the calling thread, if it already has. For
   * blocking calls that an interrupt does not reach or would break: {@code Statement::cancel},
   * {@code Socket::close}, {@code future.cancel(true)}. {@link CancelHooks} has them ready-made,
   * each around its call in a scope {@linkplain Options#withoutInterrupts() without interrupts},
   * and ends the call with the scope's cancellation.
   *
   * <p>The action runs on the thread that cancels (the one calling {@code cancel()}, the library's
   * timer thread for a deadline, the shutdown's thread), never while the library holds a lock; it
   * must be short and must not block. It runs at most once, never after the returned registration
   * was closed (an action already running when {@code close()} is called may still finish), and
   * never after this scope has closed. An action that throws is logged once, as a warning on the
   * {@code System.Logger} {@code dev.lifespan}, and does not keep other actions from running.
   * Actions registered on one scope run in the order they were registered; actions of different
   * scopes in no set order.
   *
   * @param action what to run when cancellation reaches this scope
   * @return a registration; {@linkplain Registration#close() closing} it, typically with
   *     try-with-resources around the blocking call, unregisters the action
   * @throws NullPointerException if {@code action} is null
   * @throws IllegalStateException if the scope is closed
   */
  Registration onCancel(Runnable action);

  /**
   * An action registered with {@link #onCancel(Runnable)}. Closing it unregisters the action;
   * idempotent, callable from any thread, never throws.
   */
  interface Registration extends AutoCloseable {
    /** Unregisters the action: from now on it does not start. */
    @Override
    void close();

    /** Whether the action has started (cancellation reached the scope before it was closed). */
    boolean fired();
  }

  /**
   * Sets this scope's deadline to {@code deadline}, earlier or later than before; a deadline in the
   * past cancels the scope at once.
   *
   * @throws IllegalStateException if the scope is closed
   */
  void setDeadline(Instant deadline);

  /**
   * Sets this scope's deadline to {@code timeout} from now.
   *
   * @throws IllegalArgumentException if {@code timeout} is negative
   * @throws IllegalStateException if the scope is closed
   */
  void setTimeout(Duration timeout);

  /**
   * Removes this scope's deadline.
   *
   * @throws IllegalStateException if the scope is closed
   */
  void clearDeadline();

  /**
   * How to open a scope: its name, deadline and shield. Immutable; each {@code with} method returns
   * a copy.
   *
   * @param name the scope's name; null for a generated one
   * @param timeout the deadline after entry; null for none. At most one of {@code timeout} and
   *     {@code deadline} is set
   * @param deadline the absolute deadline; null for none
   * @param shield whether the scope is a shield against outer cancellation
   * @param interruptFree whether cancellation reaches the code inside the scope, and inside the
   *     tasks spawned below it, only by {@linkplain CancelScope#onCancel hooks} and checkpoints,
   *     never by {@link Thread#interrupt}; see {@link #withoutInterrupts()}
   */
  record Options(
      String name, Duration timeout, Instant deadline, boolean shield, boolean interruptFree) {
    /** An unnamed, unshielded scope without deadline, cancelled by interrupts. */
    public static final Options DEFAULT = new Options(null, null, null, false, false);

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException if {@code timeout} is negative, or both {@code timeout} and
     *     {@code deadline} are set
     */
    public Options {
      if (timeout != null && timeout.isNegative()) {
        throw new IllegalArgumentException("timeout < 0: " + timeout + scopeName(name));
      }
      if (timeout != null && deadline != null) {
        throw new IllegalArgumentException(
            "both timeout " + timeout + " and deadline " + deadline + " set" + scopeName(name));
      }
    }

    /** Options for a scope called {@code name}. */
    public static Options named(String name) {
      return DEFAULT.withName(name);
    }

    /** A copy with the scope's name. */
    public Options withName(String name) {
      Objects.requireNonNull(name, "name");
      return new Options(name, timeout, deadline, shield, interruptFree);
    }

    /**
     * A copy whose scope gets a deadline {@code timeout} after entry (replacing an absolute
     * deadline).
     *
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public Options withTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      return new Options(name, timeout, null, shield, interruptFree);
    }

    /** A copy whose scope gets the absolute {@code deadline} (replacing a timeout). */
    public Options withDeadline(Instant deadline) {
      Objects.requireNonNull(deadline, "deadline");
      return new Options(name, null, deadline, shield, interruptFree);
    }

    /** A copy whose scope is a shield against outer cancellation. */
    public Options shielded() {
      return new Options(name, timeout, deadline, true, interruptFree);
    }

    /**
     * A copy whose scope is cancelled without interrupts: inside it, and inside the tasks spawned
     * below it, cancellation never calls {@link Thread#interrupt}. It reaches the code through the
     * scope's {@linkplain CancelScope#onCancel hooks} and at checkpoints; the library's own waits
     * ({@code join}, {@link CancelScope#sleep}, {@code awaitIdle}) still end at once with {@link
     * CancelledException}, and a checkpoint throws it without setting the interrupt flag. For code
     * that an interrupt breaks: an embedded database's file I/O, a {@code FileChannel} (closed for
     * every user by an interrupt), a library that swallows or misreports interrupts. Scopes outside
     * it are unchanged.
     */
    public Options withoutInterrupts() {
      return new Options(name, timeout, deadline, shield, true);
    }

    private static String scopeName(String name) {
      return name != null ? " (CancelScope '" + name + "')" : "";
    }

    @Override
    public String toString() {
      return "CancelScope.Options[name="
          + name
          + (timeout != null ? ", timeout=" + timeout : "")
          + (deadline != null ? ", deadline=" + deadline : "")
          + (shield ? ", shielded" : "")
          + (interruptFree ? ", without interrupts" : "")
          + "]";
    }
  }
}

package dev.lifespan;

import dev.lifespan.internal.Layers;
import java.util.Objects;

/**
 * Startup and shutdown of one part of an application as one block of code: a layer acquires its
 * resources, calls {@link Context#proceed()} once (the application runs inside that call), and
 * releases them when it returns.
 *
 * {@snippet :
 * Lifespan database = Lifespan.named("database", ctx -> {
 *     try (var pool = Pool.open(url)) {
 *         DB.set(pool);           // a LifespanLocal: this application's pool
 *         ctx.proceed();          // the application serves here until shutdown
 *     }                           // teardown: after everything inside has stopped
 * });
 * App.runAndExit(App.Options.named("orders"), Lifespan.of(database, cache, consumers), null);
 * }
 *
 * <h2>Composition and order</h2>
 *
 * In {@link #of Lifespan.of(a, b, c)}, {@code c} runs inside {@code b} inside {@code a}: startup
 * runs in order and teardown in reverse, by plain {@code try}/{@code finally}. Each layer may own a
 * supervisor for its background services ({@link Context#supervisor()}); it is shut down when the
 * layer's {@code proceed()} returns, before the layer's own code releases its resources. Inside the
 * innermost layer, the application's background supervisor (where {@link Supervisor#fireAndForget}
 * lands) is shut down first. So background work always stops before the resources it uses close.
 *
 * <h2>Failures</h2>
 *
 * <ul>
 *   <li><b>Startup failure</b>: a layer that throws before calling {@code proceed()} fails the
 *       startup. The layers already started are torn down in reverse (their {@code proceed()}
 *       returns normally), and the application ends with a {@link StartupFailedException} naming
 *       the layer, whose cause is what it threw.
 *   <li>A layer that returns without calling {@code proceed()}, or calls it twice, is an error that
 *       says so: {@link IllegalStateException}, reported as the startup failure, respectively the
 *       layer's teardown failure.
 *   <li><b>Shutdown</b>: {@code proceed()} returns normally when shutdown is requested, when the
 *       application's main body ended (normally or not), and when an inner layer failed, so that
 *       teardown runs without a pending interrupt and without needing {@code finally}.
 *   <li><b>Teardown failures</b> (a layer that throws after {@code proceed()} returned) are
 *       collected: each outer layer still tears down, and the application ends with a {@link
 *       ShutdownFailedException} naming the first, with later ones suppressed; they never hide an
 *       earlier failure of the main body or of the startup, to which they are added as suppressed
 *       exceptions.
 *   <li><b>Hard deadline</b>: when the shutdown runs out of time ({@link App.Options}), the
 *       application is cancelled, shields included, while teardown runs. The layer that was tearing
 *       down gets a {@link CancelledException} at its next checkpoint or blocking call; every outer
 *       layer's teardown still runs (under that cancellation), and the cancellation is reported as
 *       that layer's teardown failure: never swallowed.
 * </ul>
 *
 * <h2>Cancellation during startup</h2>
 *
 * A shutdown requested while a layer starts cancels that layer's scope: its startup code gets a
 * {@link CancelledException}, its cleanup runs under that cancellation (shield what must block),
 * the layers outside it tear down normally, and the application ends with the signal's outcome, not
 * a startup failure. {@code proceed()} is a checkpoint for this: called in a layer whose startup
 * was cancelled, it throws instead of starting the inner layers.
 *
 * <h2>Threads</h2>
 *
 * Every layer runs on the application's runner thread, and must call {@code proceed()} there. The
 * layers' supervisors and {@link LifespanLocal}s may be used from any thread of the application.
 */
@FunctionalInterface
public interface Lifespan {

  /**
   * Acquires this layer's resources, calls {@code ctx.proceed()} exactly once, and releases them.
   *
   * @throws Exception a failure of startup (before {@code proceed()}) or teardown (after it)
   */
  void run(Context ctx) throws Exception;

  /**
   * The layer's name in progress output and errors; {@code null} for an unnamed layer, which is
   * called {@code layer-N} after its position (from 1).
   */
  default String name() {
    return null;
  }

  /** {@code layer} under the name {@code name}. */
  static Lifespan named(String name, Lifespan layer) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(layer, "layer");
    if (name.isBlank()) throw new IllegalArgumentException("Lifespan layer name is blank");
    if (layer instanceof Layers.Composite) {
      throw new IllegalArgumentException(
          "Lifespan.named('" + name + "', ...): a composite is not one layer; name its layers");
    }
    return new Layers.Named(name, layer);
  }

  /**
   * The layers nested in order: {@code layers[0]} outermost. Composites flatten; no layers at all
   * is allowed and does nothing. A composite is run by {@link App}; calling its {@code run}
   * directly throws {@link UnsupportedOperationException}.
   */
  static Lifespan of(Lifespan... layers) {
    Objects.requireNonNull(layers, "layers");
    for (int i = 0; i < layers.length; i++) {
      if (layers[i] == null) throw new NullPointerException("Lifespan.of: layer " + i + " is null");
    }
    return new Layers.Composite(java.util.List.of(layers));
  }

  /**
   * What a layer is given: its name, the call that runs the rest of the application, and its
   * supervisor.
   */
  interface Context {
    /** The layer's name. */
    String name();

    /** The name of the application. */
    String applicationName();

    /**
     * Runs the inner layers and the application's main body, and returns when the application is
     * shutting down and everything inside this layer has stopped: the inner layers torn down, the
     * background supervisor and this layer's supervisor shut down. Returns normally also when an
     * inner layer or the main body failed; the failure is reported by the application, not here.
     *
     * @throws IllegalStateException if called twice, after the layer returned, or from another
     *     thread than the one running the layer
     * @throws CancelledException if a shutdown request cancelled this layer's startup
     */
    void proceed();

    /**
     * This layer's supervisor for its background services, opened on first use (from any thread of
     * the application) with the application's grace period. It is shut down when {@link #proceed()}
     * returns, after the inner layers' supervisors and before the layer's own teardown code runs;
     * its report is part of the application's result. A layer whose startup fails has its
     * supervisor shut down with no grace when its code returns.
     *
     * @throws IllegalStateException after it was shut down
     */
    Supervisor supervisor();

    /**
     * Counts {@code count} items of durable work that this layer leaves for the next start: work
     * that was promised and is kept durably (entries of a journal, say), which this run did not
     * finish and the next start of the application runs. It is not lost, so it does not change the
     * application's {@link App.Outcome}: the must-finish task that was running it, if the end of
     * the grace period cut it, is counted as abandoned already. The application's {@link
     * App.Result#durablePending()} is the sum of all layers' counts, and its last line says it:
     * {@code ...: TERMINATED, exit code 143; 3 durable entries left pending for the next start}.
     *
     * <p>Any thread, any number of times: each call adds to the count, like {@link
     * java.util.concurrent.atomic.AtomicInteger#addAndGet}. A call counts if it happens before this
     * layer's code returns (the result is made after every layer returned), typically during
     * teardown, after {@link #proceed()} returned; a call after that counts nothing and returns
     * false. Allocates nothing.
     *
     * <p>The default implementation, for contexts not run by an {@link App}, counts nothing and
     * returns false.
     *
     * @param count how many items; 0 counts nothing
     * @return whether the items were counted: false if this layer's code had returned
     * @throws IllegalArgumentException if {@code count < 0}
     */
    default boolean addDurablePending(int count) {
      if (count < 0) throw new IllegalArgumentException("durable pending count < 0: " + count);
      return false;
    }

    /**
     * Counts {@code count} items of durable work of this layer that failed for good in this run:
     * retried as often as allowed, then given up and reported (to a failure handler, say). Like a
     * task that failed, they do not change the application's {@link App.Outcome}; the application's
     * {@link App.Result#durableFailed()} is the sum of all layers' counts, and its last line says
     * it: {@code ...; 1 durable entry failed for good}. Threads, repeated calls and the return
     * value as for {@link #addDurablePending(int)}: a layer calls it as each item fails, from the
     * thread that ran it.
     *
     * <p>The default implementation counts nothing and returns false.
     *
     * @param count how many items; 0 counts nothing
     * @return whether the items were counted: false if this layer's code had returned
     * @throws IllegalArgumentException if {@code count < 0}
     */
    default boolean addDurableFailed(int count) {
      if (count < 0) throw new IllegalArgumentException("durable failed count < 0: " + count);
      return false;
    }

    /**
     * Lists this layer's items of durable work in dumps of the application ({@link App#dump},
     * {@link TaskDump#capture}): while the layer runs, each such dump calls {@code source} with a
     * limit ({@value TaskDump#ENTRIES_LISTED}) and lists the nodes it returns under this layer's
     * {@link TaskDump.Kind#LAYER} node, after the layer's supervisor and before the inner layers;
     * see {@link TaskDump.EntrySource} for what it returns.
     *
     * <p>Any thread, at any time while the layer runs; a second call replaces the source, {@code
     * null} removes it. The source is called on the thread that takes the dump, never by the runner
     * itself: the dump the runner prints when it gives up waiting at the hard deadline leaves it
     * out, so a source may block briefly (one bounded query). A source that throws is left out of
     * that dump, unless it threw {@link CancelledException}: the dumping thread was cancelled, and
     * the dump throws it.
     *
     * <p>The default implementation ignores the source.
     */
    default void listInDumps(TaskDump.EntrySource source) {}
  }
}

package dev.lifespan.internal;

import dev.lifespan.CheckedRunnable;
import dev.lifespan.ContextPropagator;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * The registered {@link ContextPropagator}s, and carrying their context into a task: {@link #carry}
 * runs on the spawning thread and wraps the task's body in a {@link Carried} that restores the
 * captured context around it. With no propagator registered, it returns the body unchanged.
 */
public final class Propagation {
  private static final ContextPropagator[] NONE = {};

  /** The process-wide propagators, copied on write. */
  private static volatile ContextPropagator[] global = NONE;

  private Propagation() {}

  /** See {@link ContextPropagator#register}. */
  public static ContextPropagator.Registration register(ContextPropagator propagator) {
    Objects.requireNonNull(propagator, "propagator");
    synchronized (Propagation.class) {
      ContextPropagator[] g = Arrays.copyOf(global, global.length + 1);
      g[g.length - 1] = propagator;
      global = g;
    }
    return new ContextPropagator.Registration() {
      private boolean closed;

      @Override
      public void close() {
        synchronized (Propagation.class) {
          if (closed) return;
          closed = true;
          ContextPropagator[] g = global;
          for (int i = g.length - 1; i >= 0; i--) {
            if (g[i] == propagator) {
              ContextPropagator[] n = new ContextPropagator[g.length - 1];
              System.arraycopy(g, 0, n, 0, i);
              System.arraycopy(g, i + 1, n, i, g.length - i - 1);
              global = g.length == 1 ? NONE : n;
              return;
            }
          }
        }
      }
    };
  }

  /** An application's propagators, as it keeps them: an array, empty for none. */
  static ContextPropagator[] of(List<ContextPropagator> propagators) {
    return propagators.isEmpty() ? NONE : propagators.toArray(NONE);
  }

  /**
   * {@code body} (a {@link Callable} or a {@link CheckedRunnable}) as it is to run on the task's
   * thread: unchanged if no propagator is registered for {@code app} or none captured anything,
   * else wrapped in a {@link Carried}. Runs on the spawning thread; a throwing capture propagates.
   */
  static Object carry(AppContext app, Object body) {
    ContextPropagator[] g = global;
    ContextPropagator[] a = app == null ? NONE : app.propagators;
    if (g.length == 0 && a.length == 0) return body;
    return capture(g, a, body);
  }

  private static Object capture(ContextPropagator[] g, ContextPropagator[] a, Object body) {
    ContextPropagator.Snapshot[] taken = new ContextPropagator.Snapshot[g.length + a.length];
    int n = 0;
    for (ContextPropagator p : g) {
      if ((taken[n] = p.capture()) != null) n++;
    }
    for (ContextPropagator p : a) {
      if ((taken[n] = p.capture()) != null) n++;
    }
    return n == 0 ? body : new Carried(body, n == taken.length ? taken : Arrays.copyOf(taken, n));
  }

  /** Runs {@code body}, as {@link #carry} returned it. */
  static void run(Object body) throws Exception {
    if (body instanceof CheckedRunnable r) r.run();
    else ((Callable<?>) body).call();
  }

  /** The body a task would run if no context were carried: unwraps a {@link Carried}. */
  static Object unwrap(Object body) {
    return body instanceof Carried c ? c.body : body;
  }

  /** A task's body with the context captured at its spawn. */
  static final class Carried implements Callable<Object> {
    final Object body;
    private final ContextPropagator.Snapshot[] snapshots;

    Carried(Object body, ContextPropagator.Snapshot[] snapshots) {
      this.body = body;
      this.snapshots = snapshots;
    }

    @Override
    public Object call() throws Exception {
      ContextPropagator.Restored[] undo = new ContextPropagator.Restored[snapshots.length];
      int restored = 0;
      try {
        while (restored < snapshots.length) {
          undo[restored] = snapshots[restored].restore();
          restored++;
        }
        if (body instanceof CheckedRunnable r) {
          r.run();
          return null;
        }
        return ((Callable<?>) body).call();
      } finally {
        for (int i = restored - 1; i >= 0; i--) {
          if (undo[i] != null) close(undo[i]);
        }
      }
    }

    private static void close(ContextPropagator.Restored r) {
      try {
        r.close();
      } catch (Throwable t) {
        System.getLogger("dev.lifespan")
            .log(
                System.Logger.Level.WARNING,
                "Undoing a carried context on thread '"
                    + Thread.currentThread().getName()
                    + "' threw; the other undos still ran",
                t);
      }
    }
  }
}

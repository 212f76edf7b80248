package dev.lifespan.internal;

import dev.lifespan.LifespanObserver;
import dev.lifespan.LifespanObserver.Owner;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Future;

/**
 * The registered {@link LifespanObserver}s, and telling them: {@link #resolve} gives the observers
 * that apply (process-wide, then the application's), and each event method calls every one of them,
 * catching and logging (once per observer) what it throws.
 *
 * <p>{@link #active} is the only thing the library reads where nothing is observed: a task's start
 * reads it and, while it is 0, does nothing more. It counts the process-wide registrations and the
 * running applications that have observers of their own.
 */
public final class Observers {
  static final Observed[] NONE = {};

  /** Process-wide registrations plus running applications with observers; see above. */
  static volatile int active;

  /** The process-wide observers, copied on write. */
  private static volatile Observed[] global = NONE;

  private Observers() {}

  /** An observer as registered: the observer, and whether its first exception was logged. */
  static final class Observed {
    final LifespanObserver observer;
    volatile boolean warned;

    Observed(LifespanObserver observer) {
      this.observer = observer;
    }
  }

  /** See {@link LifespanObserver#register}. */
  public static LifespanObserver.Registration register(LifespanObserver observer) {
    Objects.requireNonNull(observer, "observer");
    Observed o = new Observed(observer);
    synchronized (Observers.class) {
      Observed[] g = Arrays.copyOf(global, global.length + 1);
      g[g.length - 1] = o;
      global = g;
      active++;
    }
    return new LifespanObserver.Registration() {
      private boolean closed;

      @Override
      public void close() {
        synchronized (Observers.class) {
          if (closed) return;
          closed = true;
          Observed[] g = global;
          for (int i = 0; i < g.length; i++) {
            if (g[i] == o) {
              Observed[] n = new Observed[g.length - 1];
              System.arraycopy(g, 0, n, 0, i);
              System.arraycopy(g, i + 1, n, i, g.length - i - 1);
              global = n.length == 0 ? NONE : n;
              active--;
              return;
            }
          }
        }
      }
    };
  }

  /** An application's observers, as it keeps them; counted in {@link #active} while non-empty. */
  static Observed[] of(List<LifespanObserver> observers) {
    if (observers.isEmpty()) return NONE;
    Observed[] a = new Observed[observers.size()];
    for (int i = 0; i < a.length; i++) a[i] = new Observed(observers.get(i));
    return a;
  }

  /** An application with observers {@code a} started ({@code +1}) or ended ({@code -1}). */
  static void appCounted(Observed[] a, int delta) {
    if (a.length == 0) return;
    synchronized (Observers.class) {
      active += delta;
    }
  }

  /**
   * The observers of something in application {@code app} (null: outside of one), process-wide
   * first; null if there are none. Allocates only when both kinds are registered.
   */
  static Observed[] resolve(AppContext app) {
    Observed[] g = global, a = app == null ? NONE : app.observers;
    if (a.length == 0) return g.length == 0 ? null : g;
    if (g.length == 0) return a;
    Observed[] all = Arrays.copyOf(g, g.length + a.length);
    System.arraycopy(a, 0, all, g.length, a.length);
    return all;
  }

  // ---- events, to the observers {@link #resolve} returned

  static void taskStarted(Observed[] os, Owner owner, String task, boolean mf) {
    for (Observed o : os) {
      try {
        o.observer.taskStarted(owner, task, mf);
      } catch (Throwable t) {
        threw(o, "taskStarted", t);
      }
    }
  }

  static void taskEnded(
      Observed[] os,
      Owner owner,
      String task,
      boolean mf,
      Future.State outcome,
      Throwable failure) {
    for (Observed o : os) {
      try {
        o.observer.taskEnded(owner, task, mf, outcome, failure);
      } catch (Throwable t) {
        threw(o, "taskEnded", t);
      }
    }
  }

  static void serviceRestarting(
      Observed[] os, Owner sup, String service, int attempt, Throwable cause, Duration delay) {
    for (Observed o : os) {
      try {
        o.observer.serviceRestarting(sup, service, attempt, cause, delay);
      } catch (Throwable t) {
        threw(o, "serviceRestarting", t);
      }
    }
  }

  static void straggler(Observed[] os, Owner sup, String task, Duration age, boolean mf) {
    for (Observed o : os) {
      try {
        o.observer.straggler(sup, task, age, mf);
      } catch (Throwable t) {
        threw(o, "straggler", t);
      }
    }
  }

  private static void threw(Observed o, String method, Throwable t) {
    if (o.warned) return;
    o.warned = true;
    System.getLogger("dev.lifespan")
        .log(
            System.Logger.Level.WARNING,
            "Observer "
                + o.observer
                + " threw from "
                + method
                + " on thread '"
                + Thread.currentThread().getName()
                + "'; it is logged once, and changes no outcome",
            t);
  }

  /**
   * The shutdown phases of one owner, as its observers see them: {@link #next} ends the current
   * phase (if any) and begins the next (if non-null). Used by one thread at a time (the thread
   * running the shutdown); the observers are fixed when it is made.
   */
  static final class Phases {
    private final Observed[] os;
    private final Owner owner;
    private final Timer timer;
    private String current;
    private long since;

    private Phases(Observed[] os, Owner owner, Timer timer) {
      this.os = os;
      this.owner = owner;
      this.timer = timer;
    }

    /** Phases of {@code owner} for the observers of {@code app}; null if none is registered. */
    static Phases of(AppContext app, Owner owner, Timer timer) {
      Observed[] os = resolve(app);
      return os == null ? null : new Phases(os, owner, timer);
    }

    void next(String phase) {
      long now = timer.nanoTime();
      if (current != null) {
        Duration took = Duration.ofNanos(now - since);
        for (Observed o : os) {
          try {
            o.observer.shutdownPhaseEnded(owner, current, took);
          } catch (Throwable t) {
            threw(o, "shutdownPhaseEnded", t);
          }
        }
      }
      current = phase;
      since = now;
      if (phase == null) return;
      for (Observed o : os) {
        try {
          o.observer.shutdownPhaseBegan(owner, phase);
        } catch (Throwable t) {
          threw(o, "shutdownPhaseBegan", t);
        }
      }
    }

    /** The observers, fixed when this was made. */
    Observed[] observers() {
      return os;
    }

    Owner owner() {
      return owner;
    }
  }
}

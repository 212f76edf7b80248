package dev.lifespan.micrometer;

import dev.lifespan.App;
import dev.lifespan.LifespanObserver;
import dev.lifespan.LifespanObserver.Owner;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;

/**
 * Lifespan's tasks, services, shutdowns and stragglers as Micrometer meters: a {@link MeterBinder}
 * fed by a {@link LifespanObserver}.
 *
 * {@snippet :
 * LifespanMetrics metrics = new LifespanMetrics();
 * metrics.bindTo(registry);                                   // Spring Boot binds a MeterBinder bean
 * App.runAndExit(metrics.observe(App.Options.named("orders")), lifespan, null);
 * // or, for every application and the tasks outside of one:
 * try (LifespanMetrics all = LifespanMetrics.processWide()) { all.bindTo(registry); ... }
 * }
 *
 * <h2>Meters</h2>
 *
 * Every meter has the tag {@code app}, the application's name ({@code none} for tasks outside of an
 * application), and the common tags given to the constructor.
 *
 * <table class="striped">
 *   <caption>Meters</caption>
 *   <thead><tr><th>name<th>type<th>more tags<th>what</tr></thead>
 *   <tbody>
 *   <tr><td>{@code lifespan.tasks.started}<td>counter<td>{@code supervisor}<td>tasks started
 *   <tr><td>{@code lifespan.tasks.failed}<td>counter<td>{@code supervisor}<td>tasks that ended
 *       with a failure (not a cancellation)
 *   <tr><td>{@code lifespan.tasks.cancelled}<td>counter<td>{@code supervisor}<td>tasks that ended
 *       by cancellation
 *   <tr><td>{@code lifespan.tasks.running}<td>gauge<td>{@code supervisor}<td>tasks started and not
 *       yet ended
 *   <tr><td>{@code lifespan.service.restarts}<td>counter<td>{@code supervisor}, {@code service}<td>
 *       restarts of a service ({@link dev.lifespan.Supervisor#startService})
 *   <tr><td>{@code lifespan.shutdown.phase}<td>timer<td>{@code owner}, {@code phase}<td>the
 *       duration of each shutdown phase, on the application's clock: a supervisor's ({@code owner}
 *       its name; {@code cancel}, {@code grace}, {@code kill}, {@code report}) and the
 *       application's ({@code owner} {@code application}; {@code stop supervisor '<name>'}, {@code
 *       tear down layer '<name>'})
 *   <tr><td>{@code lifespan.stragglers}<td>counter<td>{@code supervisor}<td>tasks a supervisor's
 *       shutdown gave up waiting for
 *   </tbody>
 * </table>
 *
 * <p>The task meters count the tasks of supervisors, the long-lived owners whose names are few and
 * fixed; tasks of task groups are not counted (a group's failure comes out of the group to its
 * caller, and unnamed groups have generated names, one tag value each). The task meters of a
 * supervisor, and each other meter, appear at its first event. Counters never reset; the meters of
 * an application that ended stay in the registry, as Micrometer's binders do.
 *
 * <h2>Attaching</h2>
 *
 * The metrics count what their {@linkplain #observer() observer} is told: attach it to one
 * application ({@link #observe(App.Options)}, the same as {@code
 * options.withObserver(metrics.observer())}), or register it process-wide ({@link #processWide()},
 * or {@link #registerProcessWide()} on an instance; {@link #close()} unregisters). Attach an
 * instance once: attached twice, it counts everything twice.
 *
 * <h2>Registries and threads</h2>
 *
 * {@link #bindTo} may be called for several registries, before or after events arrive; each gets
 * every meter. Counting takes no lock and allocates nothing on a task's start or end once its
 * supervisor has been seen; the task meters read {@link LongAdder}s. Safe for use by any thread.
 */
public final class LifespanMetrics implements MeterBinder, AutoCloseable {
  private final Tags common;
  private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
  private final Map<Owner, Supervised> supervisors = new ConcurrentHashMap<>();
  private final LifespanObserver observer = new Observer();
  private LifespanObserver.Registration registration; // guarded by this

  /** Metrics with no common tags, attached to nothing yet. */
  public LifespanMetrics() {
    this(Tags.empty());
  }

  /** Metrics whose meters all carry {@code commonTags}, attached to nothing yet. */
  public LifespanMetrics(Iterable<Tag> commonTags) {
    this.common = Tags.of(Objects.requireNonNull(commonTags, "commonTags"));
  }

  /** New metrics, {@linkplain #registerProcessWide() registered process-wide}; close them. */
  public static LifespanMetrics processWide() {
    return new LifespanMetrics().registerProcessWide();
  }

  /**
   * Registers {@link #observer()} process-wide ({@link LifespanObserver#register}), for every
   * application and the tasks outside of one, until {@link #close()}.
   *
   * @return these metrics
   * @throws IllegalStateException if they are registered process-wide already
   */
  public synchronized LifespanMetrics registerProcessWide() {
    if (registration != null) {
      throw new IllegalStateException(
          "LifespanMetrics " + common + " registered process-wide already");
    }
    registration = LifespanObserver.register(observer);
    return this;
  }

  /** A copy of {@code options} whose application these metrics count. */
  public App.Options observe(App.Options options) {
    return options.withObserver(observer);
  }

  /** The observer that feeds these metrics, for {@link App.Options#withObserver}. */
  public LifespanObserver observer() {
    return observer;
  }

  @Override
  public synchronized void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    registries.add(registry);
    for (Supervised s : supervisors.values()) s.register(registry);
  }

  /** Stops counting process-wide, if {@link #registerProcessWide()} did; idempotent. */
  @Override
  public synchronized void close() {
    if (registration != null) registration.close();
    registration = null;
  }

  @Override
  public String toString() {
    return "LifespanMetrics" + common + "[" + supervisors.size() + " supervisors]";
  }

  private Tags tags(Owner owner) {
    return common.and("app", owner.app() == null ? "none" : owner.app());
  }

  private Supervised supervised(Owner owner) {
    Supervised s = supervisors.get(owner);
    return s != null ? s : newSupervised(owner);
  }

  private synchronized Supervised newSupervised(Owner owner) {
    Supervised s = supervisors.get(owner);
    if (s != null) return s;
    s = new Supervised(tags(owner).and("supervisor", owner.name()));
    for (MeterRegistry r : registries) s.register(r);
    supervisors.put(owner, s);
    return s;
  }

  /** The task counts of one supervisor (by application and name), read by its meters. */
  private static final class Supervised {
    final Tags tags;
    final LongAdder started = new LongAdder(),
        failed = new LongAdder(),
        cancelled = new LongAdder(),
        running = new LongAdder();

    Supervised(Tags tags) {
      this.tags = tags;
    }

    void register(MeterRegistry r) {
      counter(r, "lifespan.tasks.started", started, "Tasks started");
      counter(r, "lifespan.tasks.failed", failed, "Tasks that ended with a failure");
      counter(r, "lifespan.tasks.cancelled", cancelled, "Tasks that ended by cancellation");
      Gauge.builder("lifespan.tasks.running", running, LongAdder::sum)
          .tags(tags)
          .baseUnit(BaseUnits.TASKS)
          .description("Tasks started and not yet ended")
          .strongReference(true)
          .register(r);
    }

    private void counter(MeterRegistry r, String name, LongAdder count, String description) {
      FunctionCounter.builder(name, count, LongAdder::sum)
          .tags(tags)
          .baseUnit(BaseUnits.TASKS)
          .description(description + ", per supervisor")
          .register(r);
    }
  }

  private final class Observer implements LifespanObserver {
    @Override
    public void taskStarted(Owner owner, String task, boolean mustFinish) {
      if (owner.kind() != Owner.Kind.SUPERVISOR) return;
      Supervised s = supervised(owner);
      s.started.increment();
      s.running.increment();
    }

    @Override
    public void taskEnded(
        Owner owner, String task, boolean mustFinish, Future.State outcome, Throwable failure) {
      if (owner.kind() != Owner.Kind.SUPERVISOR) return;
      Supervised s = supervised(owner);
      if (outcome == Future.State.FAILED) s.failed.increment();
      else if (outcome == Future.State.CANCELLED) s.cancelled.increment();
      s.running.decrement();
    }

    @Override
    public void serviceRestarting(
        Owner supervisor, String service, int attempt, Throwable cause, Duration delay) {
      Tags t = tags(supervisor).and("supervisor", supervisor.name(), "service", service);
      for (MeterRegistry r : registries) {
        Counter.builder("lifespan.service.restarts")
            .tags(t)
            .baseUnit("restarts")
            .description("Restarts of a supervised service")
            .register(r)
            .increment();
      }
    }

    @Override
    public void shutdownPhaseEnded(Owner owner, String phase, Duration took) {
      Tags t =
          tags(owner)
              .and(
                  "owner",
                  owner.kind() == Owner.Kind.APPLICATION ? "application" : owner.name(),
                  "phase",
                  phase);
      for (MeterRegistry r : registries) {
        Timer.builder("lifespan.shutdown.phase")
            .tags(t)
            .description("Duration of a phase of a supervisor's or an application's shutdown")
            .register(r)
            .record(took);
      }
    }

    @Override
    public void straggler(Owner supervisor, String task, Duration age, boolean mustFinish) {
      Tags t = tags(supervisor).and("supervisor", supervisor.name());
      for (MeterRegistry r : registries) {
        Counter.builder("lifespan.stragglers")
            .tags(t)
            .baseUnit(BaseUnits.TASKS)
            .description("Tasks still running when a supervisor's shutdown gave up waiting")
            .register(r)
            .increment();
      }
    }

    @Override
    public String toString() {
      return LifespanMetrics.this.toString();
    }
  }
}

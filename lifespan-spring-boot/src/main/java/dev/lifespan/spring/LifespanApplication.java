package dev.lifespan.spring;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskDump;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

/**
 * The Lifespan {@link App} of one Spring application context, run in-process (no signal handlers:
 * Spring's shutdown hook stops it) and stopped in Spring's stop order. The auto-configuration makes
 * one per application context, as the bean {@code lifespanApplication}.
 *
 * {@snippet :
 * @Bean
 * ApplicationRunner warmUp(LifespanApplication lifespan) {
 *     return args -> lifespan.run(() -> CACHE.set(new Cache())); // a LifespanLocal of this app
 * }
 * }
 *
 * <h2>Layers</h2>
 *
 * The application's layers, outermost first: the {@code Journal} bean's layer, if the context has
 * one ({@code lifespan-jdbc}), then the layer {@code spring}, whose supervisor is the bean {@code
 * lifespanSupervisor} and runs the tasks of the {@link LifespanTaskExecutor}s. The application
 * starts when this bean is created, so before the web server starts; it is {@link App.State#READY}
 * once the journal has run its recovery.
 *
 * <h2>Shutdown, in Spring's stop order</h2>
 *
 * <ol>
 *   <li>At the first stop of Spring's {@code SmartLifecycle} beans, in phase {@link #DRAIN_PHASE}
 *       (Spring's default phase, which stops first): the application's shutdown is requested
 *       ({@link App.State#DRAINING}, the start {@code T} of the budget) and readiness becomes
 *       {@link ReadinessState#REFUSING_TRAFFIC} at once. The web server keeps serving for the drain
 *       delay.
 *   <li>Then Spring's own phases: the web server's graceful shutdown (in-flight requests finish, at
 *       most until {@code T + grace}), the web server stops.
 *   <li>In phase {@link #SUPERVISORS_PHASE}, after the web server and every other lifecycle bean of
 *       a higher phase: the context's own {@link Supervisor} beans are shut down with what is left
 *       of the grace period, then the application's supervisors (must-finish tasks run until {@code
 *       T + grace}), then its layers tear down (the journal leaves what did not finish pending for
 *       the next start). Only then does Spring destroy its singletons, closing the {@code
 *       DataSource}.
 * </ol>
 *
 * <p>If the application stops on its own (a supervisor escalated, or {@link App#requestShutdown()}
 * was called), readiness becomes {@code REFUSING_TRAFFIC} at once and the application context is
 * closed, which runs the same sequence. Its result is {@link #result()}; the process's exit code is
 * Spring's.
 *
 * <h2>Threads</h2>
 *
 * Spring's threads (the main thread, request threads, the shutdown hook) do not belong to the
 * application: {@link #run} and {@link #call} run code as the application's (its {@link
 * LifespanLocal}s resolve, {@link Supervisor#fireAndForget} lands in its background supervisor);
 * the starter's servlet filter does so for every request. All methods may be called from any
 * thread.
 */
public final class LifespanApplication implements AutoCloseable {
  /**
   * The phase in which the shutdown begins: {@code SmartLifecycle.DEFAULT_PHASE}, the first that
   * Spring stops, before the web server's graceful shutdown ({@code DEFAULT_PHASE - 1024}).
   */
  public static final int DRAIN_PHASE = Integer.MAX_VALUE;

  /**
   * The phase in which the supervisors and the journal stop: after the web server stopped ({@code
   * DEFAULT_PHASE - 2048}) and after the lifecycle beans of every higher phase; lifecycle beans
   * start in the reverse order, so the application is running before any of them starts.
   */
  public static final int SUPERVISORS_PHASE = -4096;

  /** The web server's graceful shutdown phase in Spring Boot 3.5 and 4.0. */
  static final int GRACEFUL_SHUTDOWN_PHASE = Integer.MAX_VALUE - 1024;

  private static final Logger LOG = LoggerFactory.getLogger("dev.lifespan.spring");

  /** Hands the body of {@link #call} to the application's entry point on the calling thread. */
  private static final ThreadLocal<Callable<?>> HANDOFF = new ThreadLocal<>();

  private final String name;
  private final Duration drainDelay;
  private final ApplicationEventPublisher events;
  private final Runnable closeContext;
  private final App app;

  // Set once by the layer 'spring' on the runner thread, before the application is ready.
  private volatile Supervisor supervisor;
  private volatile Callable<Object> entry;

  /** How often the requests the web server's graceful shutdown waits for are logged. */
  private static final long REPORT_EVERY_MS = 1000;

  /** How many requests a line names before "+N more". */
  private static final int REQUESTS_SHOWN = 10;

  /** The requests of the web server being served now, as the starter's servlet filter sees them. */
  private final Set<Request> requests = ConcurrentHashMap.newKeySet();

  private final CountDownLatch drainOver = new CountDownLatch(1);
  private final CountDownLatch released = new CountDownLatch(1);
  private final AtomicBoolean refusing = new AtomicBoolean();
  private final AtomicBoolean closingByContext = new AtomicBoolean();
  private volatile boolean supervisorsStopping;
  private volatile boolean skipDrain; // closed without Spring's stop: nobody is served
  private volatile ReadinessState springReadiness;

  /**
   * Starts the application and waits until it is ready.
   *
   * @param options the application's options, validated
   * @param drainDelay how long the web server keeps serving after the shutdown began
   * @param outerLayers layers outside the layer {@code spring} (the journal's), outermost first
   * @param events where readiness changes are published (the application context)
   * @param closeContext closes the application context, when the application stops on its own
   * @throws IllegalStateException if a layer failed to start: the application's one line
   */
  LifespanApplication(
      App.Options options,
      Duration drainDelay,
      List<Lifespan> outerLayers,
      ApplicationEventPublisher events,
      Runnable closeContext) {
    this.name = options.name();
    this.drainDelay = Objects.requireNonNull(drainDelay, "drainDelay");
    this.events = Objects.requireNonNull(events, "events");
    this.closeContext = Objects.requireNonNull(closeContext, "closeContext");
    List<Lifespan> layers = new ArrayList<>(outerLayers);
    layers.add(Lifespan.named("spring", this::springLayer));
    App started = App.start(options, Lifespan.of(layers.toArray(Lifespan[]::new)), this::body);
    this.app = started;
    boolean ready;
    try {
      ready = started.awaitReady();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      started.requestShutdown();
      released.countDown();
      throw new IllegalStateException(
          "interrupted while Lifespan application '" + name + "' started");
    }
    if (!ready) {
      released.countDown();
      App.Result result = awaitQuietly();
      throw new IllegalStateException(
          "Lifespan application '"
              + name
              + "' did not start: "
              + (result == null || result.failure() == null
                  ? "stopped while starting"
                  : result.failure().getMessage()),
          result == null ? null : result.failure());
    }
  }

  private void springLayer(Lifespan.Context ctx) {
    supervisor = ctx.supervisor();
    entry = LifespanLocal.wrap((Callable<Object>) () -> HANDOFF.get().call());
    ctx.proceed();
  }

  /**
   * The main body: waits for the shutdown, then holds the application in {@link App.State#DRAINING}
   * (shielded: only the hard deadline ends it) until Spring's stop reaches the supervisors' phase,
   * so that the supervisors stop after the web server. The drain delay is measured here, on the
   * application's clock.
   */
  private void body() throws Exception {
    try {
      CancelScope.sleep(Duration.ofDays(36_500)); // until the shutdown cancels the body
    } finally {
      shutdownBegan();
      CancelScope.run(
          CancelScope.Options.named("spring shutdown").shielded(),
          s -> {
            try {
              if (!drainDelay.isZero() && !skipDrain) {
                LOG.info(
                    "[{}] drain delay {} ms: readiness REFUSING_TRAFFIC, the web server keeps"
                        + " serving",
                    name,
                    drainDelay.toMillis());
                CancelScope.moveOnAfter(
                    drainDelay,
                    d -> {
                      CancelScope.sleep(Duration.ofDays(36_500));
                      return null;
                    });
              }
            } finally {
              drainOver.countDown();
            }
            // the web server's graceful shutdown: say which requests it waits for
            while (!released.await(REPORT_EVERY_MS, TimeUnit.MILLISECONDS)) {
              if (!supervisorsStopping && !requests.isEmpty()) {
                LOG.info(
                    "[{}] the web server's graceful shutdown waits for {}; {}",
                    name,
                    requests(""),
                    graceLeftText());
              }
            }
          });
    }
  }

  /** Publishes REFUSING_TRAFFIC once; closes the context if Spring is not closing it already. */
  private void shutdownBegan() {
    publishRefusing();
    if (!closingByContext.get() && closingByContext.compareAndSet(false, true)) {
      LOG.info("[{}] the Lifespan application is stopping: closing the application context", name);
      Thread.ofPlatform().name("close context of '" + name + "'").start(closeContext);
    }
  }

  void publishRefusing() {
    publishRefusing(false);
  }

  /** Publishes REFUSING_TRAFFIC: once, or {@code again} after someone published otherwise. */
  void publishRefusing(boolean again) {
    if (refusing.compareAndSet(false, true) || again) {
      try {
        AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
      } catch (RuntimeException e) {
        LOG.debug("[{}] readiness REFUSING_TRAFFIC not published: {}", name, e.toString());
      }
    }
  }

  // ---- the stop sequence, driven by the lifecycle beans

  /** Phase {@link #DRAIN_PHASE}: the shutdown begins; returns when the drain delay has passed. */
  void beginShutdown() {
    closingByContext.set(true);
    app.requestShutdown();
    publishRefusing();
  }

  /** Waits until the drain delay has passed (or the application has ended). */
  void awaitDrained() throws InterruptedException {
    drainOver.await();
  }

  /** Phase {@link #SUPERVISORS_PHASE}: the web server has stopped; the supervisors stop. */
  void stopSupervisors(List<Supervisor> others) {
    beginShutdown(); // when the drain phase did not run (a context closed before it started)
    supervisorsStopping = true;
    if (!requests.isEmpty()) {
      LOG.warn("[{}] the web server stopped with {}", name, requests(" unfinished"));
    }
    for (Supervisor s : others) {
      var report = s.shutdown(graceLeft());
      if (report.clean()) LOG.info("[{}] {}", name, report);
      else LOG.warn("[{}] {}", name, report);
    }
    released.countDown();
    App.Result result = awaitQuietly();
    if (result != null && !result.abandoned().isEmpty()) {
      LOG.warn(
          "[{}] {} must-finish task(s) abandoned at the end of the grace period: {}",
          name,
          result.abandoned().size(),
          result.abandoned());
    }
  }

  /**
   * Ends the application now, if Spring's stop did not (a context whose refresh failed, or one that
   * is not a Spring Boot application): called by Spring when the bean is destroyed, after the
   * lifecycle beans stopped; waits for the application to end.
   */
  @Override
  public void close() {
    skipDrain = true;
    closingByContext.set(true);
    app.requestShutdown();
    released.countDown();
    awaitQuietly();
  }

  private App.Result awaitQuietly() {
    try {
      return app.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  // ---- the requests in flight, for the shutdown's report

  /**
   * A request of the web server being served, as the servlet filter registers it: its method and
   * path (no query string, which may hold secrets) and since when (the application's clock, {@link
   * #nanoTime()}). The servlet API stays out of this class: the starter runs without it too.
   */
  abstract static class Request {
    final String method;
    final String path;
    final long since;

    Request(String method, String path, long since) {
      this.method = method;
      this.path = path;
      this.since = since;
    }

    /** {@code " from 127.0.0.1:5071"}, or empty if the request no longer says. */
    abstract String client();
  }

  /** The application's clock, in nanoseconds. */
  long nanoTime() {
    return app.clock().nanoTime();
  }

  /** The servlet filter: a request begins. */
  void requestStarted(Request r) {
    requests.add(r);
  }

  /** The servlet filter: the request has been served. */
  void requestEnded(Request r) {
    requests.remove(r);
  }

  /**
   * {@code 2 requests<state>: 'POST /orders' from 127.0.0.1:5071 for 12.3 s, ...}, oldest first.
   */
  private String requests(String state) {
    long now = app.clock().nanoTime();
    List<Request> all = new ArrayList<>(requests);
    all.sort((a, b) -> Long.compare(a.since, b.since));
    StringBuilder sb =
        new StringBuilder()
            .append(all.size())
            .append(all.size() == 1 ? " request" : " requests")
            .append(state);
    for (int i = 0; i < Math.min(all.size(), REQUESTS_SHOWN); i++) {
      Request r = all.get(i);
      sb.append(i == 0 ? ": '" : ", '").append(r.method).append(' ').append(r.path).append('\'');
      sb.append(r.client()).append(" for ").append(seconds(now - r.since));
    }
    if (all.size() > REQUESTS_SHOWN)
      sb.append(", +").append(all.size() - REQUESTS_SHOWN).append(" more");
    return sb.toString();
  }

  private static String seconds(long nanos) {
    return String.format(Locale.ROOT, "%.1f s", nanos / 1e9);
  }

  private String graceLeftText() {
    Duration left = graceLeft();
    return left.isZero() ? "the grace period is over" : seconds(left.toNanos()) + " of grace left";
  }

  /** What is left of the grace period now: zero before the shutdown and after its end. */
  Duration graceLeft() {
    Optional<Instant> end = app.graceDeadline();
    if (end.isEmpty()) return Duration.ZERO;
    Duration left = Duration.between(app.clock().instant(), end.get());
    return left.isNegative() ? Duration.ZERO : left;
  }

  /** Whether the supervisors' phase has begun: the executors take no more tasks. */
  boolean supervisorsStopping() {
    return supervisorsStopping;
  }

  void springReadinessChanged(ReadinessState state) {
    springReadiness = state;
  }

  // ---- public

  /** The application's name ({@code lifespan.name}). */
  public String name() {
    return name;
  }

  /** The Lifespan application: its state, clock, grace deadline and dumps. */
  public App app() {
    return app;
  }

  /**
   * The supervisor of the layer {@code spring} (the bean {@code lifespanSupervisor}): tasks spawned
   * into it belong to the application, and it stops in {@link #SUPERVISORS_PHASE}.
   */
  public Supervisor supervisor() {
    return supervisor;
  }

  /**
   * The readiness that the Spring application last published ({@code AvailabilityChangeEvent}), or
   * empty before its first. The application's code publishing {@code REFUSING_TRAFFIC} does not
   * start the Lifespan application's shutdown: it shows here and in the {@code lifespan} endpoint
   * ({@code "springReadiness"}), next to the Lifespan state.
   */
  public Optional<ReadinessState> springReadiness() {
    return Optional.ofNullable(springReadiness);
  }

  /** The result, once the application has ended. */
  public Optional<App.Result> result() {
    try {
      return app.await(Duration.ZERO);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** A dump of the application's layers, supervisors and tasks ({@link App#dump}). */
  public TaskDump dump(boolean withStackTraces) {
    return app.dump(withStackTraces);
  }

  /**
   * Runs {@code body} on the calling thread as a thread of the application: its {@link
   * LifespanLocal}s resolve and {@link Supervisor#fireAndForget} lands in its background
   * supervisor. It is not a task: the application does not wait for it and its cancellation does
   * not reach it.
   *
   * @throws RuntimeException what {@code body} threw
   */
  public void run(Runnable body) {
    Objects.requireNonNull(body, "body");
    try {
      call(
          () -> {
            body.run();
            return null;
          });
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e); // not reached: a Runnable throws no checked exception
    }
  }

  /**
   * {@link #run} for a body with a result.
   *
   * @throws Exception what {@code body} threw, unchanged
   */
  @SuppressWarnings("unchecked")
  public <V> V call(Callable<V> body) throws Exception {
    Objects.requireNonNull(body, "body");
    Callable<?> outer = HANDOFF.get();
    HANDOFF.set(body);
    try {
      return (V) entry.call();
    } finally {
      if (outer == null) HANDOFF.remove();
      else HANDOFF.set(outer);
    }
  }

  @Override
  public String toString() {
    return "LifespanApplication[" + name + ", " + app.state() + "]";
  }
}

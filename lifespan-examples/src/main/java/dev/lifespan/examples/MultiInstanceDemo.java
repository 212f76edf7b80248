package dev.lifespan.examples;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CheckedRunnable;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.TaskGroup;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Several instances of one application side by side in one JVM, each with its own context.
 *
 * <p>One application definition ({@link #definition(int)}: two lifespan layers and a main body,
 * parameterized by the instance's id) is started five times at once with {@link App#start}. Each
 * instance sets its own values of two {@link LifespanLocal}s in its layers: its tenant, and a store
 * that counts how often it is used. Each then starts background work that reads both locals and
 * records what it saw: a task of its layer's supervisor, task group tasks (spawned and forked),
 * fire-and-forget tasks (from the main body and from inside a task group task), and a {@code
 * CompletableFuture.supplyAsync} on a thread pool that all instances share, wrapped with {@link
 * LifespanLocal#wrapSupplier}. The library's tasks wait at a common gate until every task of every
 * instance has started, so all five instances read their locals at the same time. Then all five are
 * shut down, and the demo prints, per instance, how it stopped and what its tasks saw. It shows;
 * {@code MultiInstanceDemoTest} checks that what it shows holds.
 */
public final class MultiInstanceDemo {
  /** How many instances run side by side. */
  static final int INSTANCES = 5;

  /** The tenant of the instance whose threads read it. */
  static final LifespanLocal<String> TENANT = LifespanLocal.named("tenant");

  /** The store of the instance whose threads read it. */
  static final LifespanLocal<Store> STORE = LifespanLocal.named("store");

  static final String LAYER_SUPERVISOR = "layer supervisor";
  static final String FIRE_AND_FORGET = "fire-and-forget";
  static final String TASK_GROUP = "task group";
  static final String FOREIGN_POOL = "foreign pool";
  static final String LAYER_TEARDOWN = "layer teardown";

  /** How many observations each instance makes, by where they are made. */
  static final Map<String, Integer> PLAN;

  static {
    Map<String, Integer> plan = new LinkedHashMap<>();
    plan.put(LAYER_SUPERVISOR, 1);
    plan.put(FIRE_AND_FORGET, 2);
    plan.put(TASK_GROUP, 4);
    plan.put(FOREIGN_POOL, 1);
    plan.put(LAYER_TEARDOWN, 1);
    PLAN = Collections.unmodifiableMap(plan);
  }

  /** Observations made by the library's tasks, which wait at the gate. */
  private static final int GATED =
      PLAN.get(LAYER_SUPERVISOR) + PLAN.get(FIRE_AND_FORGET) + PLAN.get(TASK_GROUP);

  /** Observations made while the instances serve (all but the teardown's). */
  private static final int WHILE_SERVING = GATED + PLAN.get(FOREIGN_POOL);

  private static final long WAIT_SECONDS = 10;

  private final Stamped out;
  private final Consumer<String> progress;
  private final ConcurrentLinkedQueue<Observation> observations = new ConcurrentLinkedQueue<>();
  private final CountDownLatch arrived = new CountDownLatch(INSTANCES * GATED);
  private final CountDownLatch gate = new CountDownLatch(1);
  private final CountDownLatch observed = new CountDownLatch(INSTANCES * WHILE_SERVING);
  private final CountDownLatch serving = new CountDownLatch(INSTANCES);
  private final AtomicReferenceArray<Store> stores = new AtomicReferenceArray<>(INSTANCES);
  private final AtomicReferenceArray<Callable<String>> laterReaders =
      new AtomicReferenceArray<>(INSTANCES);
  private ExecutorService foreignPool;

  /** The demo, its lines and the instances' progress lines on {@code out} (tests). */
  MultiInstanceDemo(PrintStream out) {
    this(new Stamped(out, NAME), out::println);
  }

  private MultiInstanceDemo(Stamped out, Consumer<String> progress) {
    this.out = out;
    this.progress = progress;
  }

  /**
   * Runs the demo: its lines to the log (SLF4J, stamped by the demos' {@code logback.xml}), the
   * instances' progress lines to standard error, in the same format.
   */
  public static void main(String[] args) throws Exception {
    new MultiInstanceDemo(Stamped.log(MultiInstanceDemo.class, NAME), null).run();
  }

  /** The name of the demo's own lines. */
  static final String NAME = "multi";

  /**
   * One instance's store: the instance it belongs to, and how often its tasks used it.
   *
   * @param instance the id of the instance that created it
   * @param uses how often it was used
   */
  record Store(int instance, AtomicInteger uses) {
    Store(int instance) {
      this(instance, new AtomicInteger());
    }

    /** Counts a use; returns the instance it belongs to. */
    int use() {
      uses.incrementAndGet();
      return instance;
    }
  }

  /**
   * What one task of one instance saw.
   *
   * @param instance the instance whose code made the observation
   * @param where where it was made: one of the keys of {@link #PLAN}
   * @param thread the thread it was made on
   * @param tenant what {@link #TENANT} read, or the error in brackets
   * @param store the instance of the store {@link #STORE} read, or -1 if the read failed
   */
  record Observation(int instance, String where, String thread, String tenant, int store) {
    /** Whether it saw its own instance's values. */
    boolean isolated() {
      return tenant.equals(tenantOf(instance)) && store == instance;
    }
  }

  /**
   * The same application for every instance: its lifespan layers and its main body.
   *
   * @param lifespan the layers: the tenant, then the store with its supervisor's task
   * @param body the main body: starts the background work, then serves until shutdown
   */
  record Definition(Lifespan lifespan, CheckedRunnable body) {}

  /**
   * What the demo saw.
   *
   * @param results the result of each instance, in order of id; empty if it did not end in time
   * @param observations every observation, by every instance
   * @param storeUses how often each instance's store was used, in order of id
   * @param laterReads what reading {@link #TENANT} threw in each instance after it ended, or null
   */
  record Run(
      List<Optional<App.Result>> results,
      List<Observation> observations,
      List<Integer> storeUses,
      List<Throwable> laterReads) {
    /** The observations of instance {@code id}. */
    List<Observation> of(int id) {
      return observations.stream().filter(o -> o.instance() == id).toList();
    }
  }

  static String tenantOf(int id) {
    return "tenant-" + id;
  }

  static String appName(int id) {
    return "orders-" + id;
  }

  /** The application, parameterized by the instance's id (1 to {@link #INSTANCES}). */
  Definition definition(int id) {
    Lifespan tenantLayer =
        Lifespan.named(
            "tenant",
            ctx -> {
              TENANT.set(tenantOf(id));
              ctx.proceed();
            });
    Lifespan storeLayer =
        Lifespan.named(
            "store",
            ctx -> {
              Store store = new Store(id);
              stores.set(id - 1, store);
              STORE.set(store);
              ctx.supervisor()
                  .spawn(
                      "store-flusher",
                      () -> {
                        gated(id, LAYER_SUPERVISOR);
                        CancelScope.sleep(Duration.ofDays(1)); // until the shutdown cancels it
                      });
              ctx.proceed();
              observe(id, LAYER_TEARDOWN); // after every task of the instance stopped
            });
    CheckedRunnable body =
        () -> {
          Supervisor.fireAndForget("audit", () -> gated(id, FIRE_AND_FORGET));
          CompletableFuture<Void> foreign =
              CompletableFuture.supplyAsync(
                  LifespanLocal.wrapSupplier(
                      () -> {
                        observe(id, FOREIGN_POOL);
                        observed.countDown();
                        return null;
                      }),
                  foreignPool);
          TaskGroup.run(
              "requests",
              g -> {
                g.spawn(
                    "request-1",
                    () -> {
                      Supervisor.fireAndForget("notify", () -> gated(id, FIRE_AND_FORGET));
                      gated(id, TASK_GROUP);
                    });
                g.spawn("request-2", () -> gated(id, TASK_GROUP));
                g.spawn("request-3", () -> gated(id, TASK_GROUP));
                g.fork(
                    "lookup",
                    () -> {
                      gated(id, TASK_GROUP);
                      return TENANT.get();
                    });
              });
          foreign.join();
          laterReaders.set(id - 1, LifespanLocal.wrap(TENANT::get));
          serving.countDown();
          CancelScope.sleep(Duration.ofDays(1)); // serves until the shutdown cancels the body
        };
    return new Definition(Lifespan.of(tenantLayer, storeLayer), body);
  }

  /** Waits at the gate, then observes; a task of the library's. */
  private void gated(int id, String where) throws InterruptedException {
    arrived.countDown();
    gate.await();
    observe(id, where);
    observed.countDown();
  }

  private void observe(int id, String where) {
    String tenant;
    try {
      tenant = TENANT.get();
    } catch (RuntimeException e) {
      tenant = "(" + e.getMessage() + ")";
    }
    int store;
    try {
      store = STORE.get().use();
    } catch (RuntimeException e) {
      store = -1;
    }
    observations.add(new Observation(id, where, Thread.currentThread().getName(), tenant, store));
  }

  /** Starts the instances, lets their tasks observe, shuts them down and prints what they saw. */
  Run run() throws InterruptedException {
    say(
        "one application, %d instances in one JVM, each with its own tenant and store (Java %s)",
        INSTANCES, Runtime.version());
    List<Optional<App.Result>> results = new ArrayList<>();
    try (ExecutorService pool =
        Executors.newFixedThreadPool(2, Thread.ofPlatform().name("foreign-pool-", 1).factory())) {
      foreignPool = pool;
      List<App> apps = new ArrayList<>();
      for (int id = 1; id <= INSTANCES; id++) {
        Definition d = definition(id);
        App.Options options = App.Options.named(appName(id));
        if (progress != null) options = options.withProgress(progress);
        apps.add(App.start(options, d.lifespan(), d.body()));
      }
      for (App app : apps) app.awaitReady();
      boolean all = arrived.await(WAIT_SECONDS, TimeUnit.SECONDS);
      say(
          "%d of %d tasks of the %d instances are running%s; opening the gate: they all read"
              + " their locals now",
          INSTANCES * GATED - arrived.getCount(),
          INSTANCES * GATED,
          INSTANCES,
          all ? "" : " after " + WAIT_SECONDS + " s");
      gate.countDown();
      if (!observed.await(WAIT_SECONDS, TimeUnit.SECONDS)
          || !serving.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
        say("the instances' work did not finish in %d s; shutting them down anyway", WAIT_SECONDS);
      }
      say("shutting down all %d instances", INSTANCES);
      for (App app : apps) app.requestShutdown();
      for (App app : apps) results.add(app.await(Duration.ofSeconds(30)));
    }
    List<Integer> uses = new ArrayList<>();
    List<Throwable> laterReads = new ArrayList<>();
    for (int id = 1; id <= INSTANCES; id++) {
      Store s = stores.get(id - 1);
      uses.add(s == null ? 0 : s.uses().get());
      laterReads.add(readAfterEnd(laterReaders.get(id - 1)));
    }
    Run run = new Run(results, List.copyOf(observations), uses, laterReads);
    report(run);
    return run;
  }

  /** Reads the tenant in an instance that has ended; returns what that threw, or null. */
  private static Throwable readAfterEnd(Callable<String> reader) {
    if (reader == null) return null;
    try {
      reader.call();
      return null;
    } catch (Exception e) {
      return e;
    }
  }

  /** Prints, per instance, how it stopped and what its tasks saw. */
  private void report(Run run) {
    for (int id = 1; id <= INSTANCES; id++) {
      List<Observation> own = run.of(id);
      long isolated = own.stream().filter(Observation::isolated).count();
      Optional<App.Result> r = run.results().get(id - 1);
      say("%s: %s", appName(id), r.map(MultiInstanceDemo::describe).orElse("did not stop"));
      say(
          "  %d of its %d observations saw %s and store #%d (store used %d times): %s",
          isolated, own.size(), tenantOf(id), id, run.storeUses().get(id - 1), where(own));
      Throwable later = run.laterReads().get(id - 1);
      say("  the tenant read after its end: %s", later == null ? "no error" : later.getMessage());
    }
    Map<String, TreeSet<String>> poolThreads = new TreeMap<>();
    for (Observation o : run.observations()) {
      if (o.where().equals(FOREIGN_POOL)) {
        poolThreads.computeIfAbsent(o.thread(), t -> new TreeSet<>()).add(appName(o.instance()));
      }
    }
    say(
        "the shared foreign pool's threads ran the instances' wrapped work: %s",
        poolThreads.entrySet().stream()
            .map(e -> e.getKey() + " for " + String.join(", ", e.getValue()))
            .collect(Collectors.joining("; ")));
  }

  /** How many of {@code observations} were made where, in the order of {@link #PLAN}. */
  private static String where(List<Observation> observations) {
    Map<String, Long> counted = new LinkedHashMap<>();
    for (String where : PLAN.keySet()) counted.put(where, 0L);
    for (Observation o : observations) counted.merge(o.where(), 1L, Long::sum);
    return counted.entrySet().stream()
        .map(e -> e.getKey() + " " + e.getValue())
        .collect(Collectors.joining(", "));
  }

  private static String describe(App.Result r) {
    int cancelled = r.reports().stream().mapToInt(ShutdownReport::cancelled).sum();
    return String.format(
        "stopped %s, exit code %d, %d ms after the shutdown request; tasks cancelled: %d,"
            + " stragglers: %d",
        r.outcome(), r.exitCode(), r.shutdownTime().toMillis(), cancelled, r.stragglers().size());
  }

  private void say(String format, Object... args) {
    out.say(format, args);
  }
}

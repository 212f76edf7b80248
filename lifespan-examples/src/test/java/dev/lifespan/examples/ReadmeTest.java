package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.CancelHooks;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.ServiceSpec;
import dev.lifespan.ShutdownReport;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import dev.lifespan.TaskGroup;
import dev.lifespan.context.MicrometerContext;
import dev.lifespan.context.OpenTelemetryContextAccessor;
import dev.lifespan.http.HttpApp;
import dev.lifespan.http.HttpException;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.http.Response;
import dev.lifespan.http.Routes;
import dev.lifespan.micrometer.LifespanMetrics;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** The README's API tour, compiled and run: each test holds one snippet, verbatim. */
class ReadmeTest {
  record User(String name) {}

  record Order(int id) {}

  record Page(User user, List<Order> orders) {}

  record Quote(String item, int cents) {}

  final int id = 7;
  final Users users = id -> new User("user-" + id);
  final Orders orders = id -> List.of(new Order(1), new Order(2));
  final List<String> audited = new ArrayList<>();
  final Audit audit = audited::add;

  interface Users {
    User find(int id) throws Exception;
  }

  interface Orders {
    List<Order> recent(int id) throws Exception;
  }

  interface Audit {
    void record(String file);
  }

  static final class Pricing {
    final Duration latency;

    Pricing(Duration latency) {
      this.latency = latency;
    }

    Quote quote(String item) throws InterruptedException {
      Thread.sleep(latency);
      return new Quote(item, 4200);
    }
  }

  @Test
  void taskGroups() throws Exception {
    Page page =
        TaskGroup.call(
            "render",
            group -> {
              Task<User> user = group.fork("user", () -> users.find(id));
              Task<List<Order>> recent = group.fork("orders", () -> orders.recent(id));
              return new Page(user.join(), recent.join());
            });
    assertEquals(new Page(new User("user-7"), List.of(new Order(1), new Order(2))), page);
  }

  @Test
  void deadlines() throws Exception {
    String item = "book";
    Pricing pricing = new Pricing(Duration.ofDays(1));
    Optional<Quote> quote =
        CancelScope.moveOnAfter(Duration.ofMillis(300), scope -> pricing.quote(item));
    assertEquals(Optional.empty(), quote);

    Pricing fast = new Pricing(Duration.ZERO);
    Quote strict = CancelScope.withTimeout(Duration.ofSeconds(2), scope -> fast.quote(item));
    assertEquals(new Quote("book", 4200), strict);
    assertThrows(
        TimeoutException.class,
        () -> CancelScope.withTimeout(Duration.ofMillis(50), scope -> pricing.quote(item)));
  }

  @Test
  void cancellationThatIsNotSwallowed() throws Exception {
    CancelScope scope =
        CancelScope.run(
            s -> {
              s.cancel("no longer needed");
              try {
                Thread.sleep(Duration.ofDays(1));
              } catch (InterruptedException swallowed) {
              }
              CancelScope.checkpoint(); // throws CancelledException: still cancelled
            });
    assertTrue(scope.isCancelledCaught());
    assertFalse(Thread.currentThread().isInterrupted());
  }

  /** Sums a billion rows: H2 looks for a cancellation while it iterates. */
  static final String REPORT = "select sum(x) from system_range(1, 1000000000)";

  @Test
  void blockingIoThatAnInterruptBreaks() throws Exception {
    try (Connection db = DriverManager.getConnection("jdbc:h2:mem:readme");
        Statement statement = db.createStatement()) {
      TimeoutException timeout =
          assertThrows(
              TimeoutException.class,
              () -> {
                long total =
                    CancelScope.withTimeout(
                        Duration.ofMillis(300),
                        s ->
                            CancelHooks.execute(
                                statement,
                                st -> {
                                  try (ResultSet rs = st.executeQuery(REPORT)) {
                                    rs.next();
                                    return rs.getLong(1);
                                  }
                                }));
                // at the deadline: statement.cancel(); then TimeoutException, and the connection
                // stays usable
              });
      SQLException cancelled = (SQLException) timeout.getSuppressed()[0];
      assertEquals("57014", cancelled.getSQLState());
      try (ResultSet rs = statement.executeQuery("select 1")) {
        assertTrue(rs.next());
      }
    }
  }

  @Test
  void shields() throws Exception {
    String file = "report.pdf";
    CancelScope.run(
        outer -> {
          outer.cancel();
          try {
            upload(file);
          } finally {
            CancelScope.run(CancelScope.Options.named("audit").shielded(), s -> audit.record(file));
          }
        });
    assertEquals(List.of("report.pdf"), audited);
  }

  private static void upload(String file) throws InterruptedException {
    Thread.sleep(Duration.ofDays(1));
  }

  @Test
  void startingAService() throws Exception {
    List<Integer> ports = new ArrayList<>();
    TaskGroup.run(
        "server",
        group -> {
          int port =
              group.start(
                  "listener",
                  started -> {
                    try (var socket = new ServerSocket(0)) {
                      started.started(socket.getLocalPort()); // start() returns this value
                      serve(socket);
                    }
                  });
          ports.add(port);
        });
    assertTrue(ports.get(0) > 0);
  }

  private static void serve(ServerSocket socket) {}

  private final List<String> done = new java.util.concurrent.CopyOnWriteArrayList<>();

  private void flush() {
    done.add("flushed");
  }

  private int countOrders() {
    return 3;
  }

  private void confirm(int order) {
    done.add("confirmed " + order);
  }

  private void consumeFeed() throws InterruptedException {
    Thread.sleep(Duration.ofDays(1));
  }

  @Test
  void supervisors() throws Exception {
    ShutdownReport report =
        Supervisor.run(
            Supervisor.Options.named("background"),
            sup -> {
              sup.spawn("metrics-flusher", () -> flush()); // failure: to the failure handler
              Task<Integer> count =
                  sup.fork("count", () -> countOrders()); // failure: to whoever joins
              sup.spawnMustFinish("confirm order 7", () -> confirm(7)); // shutdown waits for it
              sup.startService(
                  ServiceSpec.of("feed", () -> consumeFeed()) // restarted with backoff
                      .withIntensity(5, Duration.ofMinutes(1))); // past that: the owner fails
              System.out.println("orders: " + count.join());
            }); // shutdown: cancel ordinary tasks, wait for must-finish ones
    assertTrue(done.contains("confirmed 7"), done.toString());
    assertTrue(report.clean(), report.toString());
  }

  /** A stand-in connection pool. */
  static final class Pool implements AutoCloseable {
    static final List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();

    static Pool open(String url) {
      events.add("open " + url);
      return new Pool();
    }

    int size() {
      return 4;
    }

    @Override
    public void close() {
      events.add("close");
    }
  }

  static final String url = "jdbc:h2:mem:orders";

  static void consume(Pool pool) {
    Pool.events.add("consuming");
    CancelScope.sleep(Duration.ofDays(1));
  }

  static final LifespanLocal<Pool> DB = LifespanLocal.named("db");

  static final Lifespan database =
      Lifespan.named(
          "database",
          ctx -> {
            try (var pool = Pool.open(url)) {
              DB.set(pool); // this application's pool, for all its tasks
              ctx.proceed(); // the application runs here until shutdown
            } // closed after everything inside has stopped
          });
  static final Lifespan consumers =
      Lifespan.named(
          "consumers",
          ctx -> {
            ctx.supervisor().startService(ServiceSpec.of("orders-feed", () -> consume(DB.get())));
            ctx.proceed(); // the layer's supervisor stops when proceed() returns
          });

  /** The README's process entry point: compiled, not run (it exits the JVM). */
  public static void main(String[] args) {
    App.runAndExit(
        App.Options.named("orders").withGrace(Duration.ofSeconds(20)),
        Lifespan.of(database, consumers),
        null); // no main body: serve until SIGTERM or Ctrl-C
  }

  @Test
  void lifespansAndTheAppRunner() throws Exception {
    Pool.events.clear();
    PrintStream console = System.err; // the snippet's app has no progress sink: System.err
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setErr(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      App app = App.start(App.Options.named("orders-test"), Lifespan.of(database, consumers), null);
      app.awaitReady();
      app.signal(App.Signal.TERM); // exactly what a real SIGTERM does
      App.Result result = app.await(); // outcome TERMINATED, exit code 143, supervisor reports
      assertEquals(App.Outcome.TERMINATED, result.outcome());
      assertEquals(143, result.exitCode());
      assertEquals("close", Pool.events.getLast(), "the pool closed last: " + Pool.events);
      assertEquals("open " + url, Pool.events.getFirst());
      ShutdownReport feed = result.reports().get(1);
      assertEquals("orders-test/consumers", feed.supervisor());
      assertEquals(1, feed.cancelled(), feed.toString());
    } finally {
      System.setErr(console);
    }
    String progress = printed.toString(StandardCharsets.UTF_8).stripTrailing();
    assertTrue(progress.endsWith(": TERMINATED, exit code 143"), progress);
  }

  @Test
  void foreignExecutors() throws Exception {
    ExecutorService legacyPool = Executors.newSingleThreadExecutor();
    List<Integer> sizes = new ArrayList<>();
    try {
      App app =
          App.start(
              App.Options.named("wrapped").withProgress(line -> {}),
              database,
              () -> {
                CompletableFuture<Integer> size =
                    CompletableFuture.supplyAsync(
                        LifespanLocal.wrapSupplier(() -> DB.get().size()), legacyPool);
                sizes.add(size.join());
              });
      assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
    } finally {
      legacyPool.shutdown();
      assertTrue(legacyPool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES));
    }
    assertEquals(List.of(4), sizes);
  }

  // ---- Context carried into tasks

  interface Log {
    void info(String message);
  }

  final List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A stand-in logger that writes the MDC's requestId before each message, as a pattern would. */
  final Log log = message -> logged.add(MDC.get("requestId") + ": " + message);

  @Test
  void contextCarriedIntoTasks() throws Exception {
    ContextRegistry.getInstance()
        .registerThreadLocalAccessor(new Slf4jThreadLocalAccessor()) // the whole MDC
        .registerThreadLocalAccessor(new OpenTelemetryContextAccessor()); // span, baggage
    App.Options options =
        App.Options.named("orders").withContextPropagator(MicrometerContext.propagator());

    App app =
        App.start(
            options.withProgress(line -> {}),
            Lifespan.of(),
            () -> {
              // in the application:
              MDC.put("requestId", "r-42");
              TaskGroup.run(group -> group.spawn(() -> log.info("fetching"))); // logged with r-42
            });
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
    assertEquals(List.of("r-42: fetching"), logged);
  }

  @Test
  void metrics() throws Exception {
    MeterRegistry registry = new SimpleMeterRegistry(); // or your Prometheus registry
    LifespanMetrics metrics = new LifespanMetrics();
    metrics.bindTo(registry); // Spring Boot binds a MeterBinder bean itself
    App.Options options = metrics.observe(App.Options.named("orders"));

    App app =
        App.start(
            options.withProgress(line -> {}),
            Lifespan.of(),
            () -> Supervisor.background().spawn("flush", () -> {}).join());
    assertEquals(App.Outcome.SUCCEEDED, app.await().outcome());
    assertEquals(
        1.0,
        registry
            .get("lifespan.tasks.started")
            .tags("app", "orders", "supervisor", "orders/background")
            .functionCounter()
            .count());
  }

  // ---- HTTP

  /** A stand-in order store. */
  static final class Store {
    private final java.util.Map<Long, String> orders =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong ids =
        new java.util.concurrent.atomic.AtomicLong();

    long add(String order) {
      long id = ids.incrementAndGet();
      orders.put(id, order);
      return id;
    }

    String find(long id) {
      String o = orders.get(id);
      if (o == null) throw new HttpException(404, "no order " + id);
      return o;
    }
  }

  static final List<Long> confirmed = new java.util.concurrent.CopyOnWriteArrayList<>();
  static final CountDownLatch confirming = new CountDownLatch(1);
  static final CountDownLatch delivered = new CountDownLatch(1);

  static void confirm(long id) throws InterruptedException {
    confirming.countDown();
    delivered.await(); // a slow delivery: the test lets it end only after the shutdown began
    confirmed.add(id);
  }

  static final LifespanLocal<Store> STORE = LifespanLocal.named("store");

  static final Lifespan storeLayer =
      Lifespan.named(
          "store",
          ctx -> {
            STORE.set(new Store());
            ctx.proceed();
          });

  static Routes routes() {
    Routes routes =
        Routes.create()
            .post(
                "/orders",
                req -> {
                  long id = STORE.get().add(req.bodyText());
                  Supervisor.background() // the app's: outlives the request
                      .spawnMustFinish("confirm order " + id, () -> confirm(id));
                  return Response.json(201, "{\"id\":" + id + "}");
                })
            .get(
                "/orders/{id}",
                Duration.ofSeconds(2), // past it: cancelled, 503
                req -> Response.text(200, STORE.get().find(Long.parseLong(req.pathParam("id")))));
    return routes;
  }

  /** The README's HTTP entry point: compiled, not run (it exits the JVM). */
  static void httpMain() {
    Routes routes = routes();
    HttpApp.runAndExit(
        App.Options.named("orders").withDrainDelay(Duration.ofSeconds(5)),
        Lifespan.of(storeLayer), // starts before the port opens
        HttpOptions.defaults().withPort(8080),
        routes);
  }

  @Test
  void http() throws Exception {
    confirmed.clear();
    HttpApp server =
        HttpApp.start(
            App.Options.named("orders-http").withProgress(line -> {}),
            Lifespan.of(storeLayer),
            HttpOptions.defaults().withHost("127.0.0.1").withPort(0),
            routes());
    assertTrue(server.awaitReady());
    String base = "http://127.0.0.1:" + server.port();
    try (HttpClient client = HttpClient.newHttpClient()) {
      HttpResponse<String> created =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/orders"))
                  .POST(HttpRequest.BodyPublishers.ofString("book"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(201, created.statusCode());
      assertEquals("{\"id\":1}", created.body());
      HttpResponse<String> shown =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/orders/1")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, shown.statusCode());
      assertEquals("book", shown.body());
      HttpResponse<String> missing =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/orders/9")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(404, missing.statusCode());
    }
    assertTrue(confirming.await(1, java.util.concurrent.TimeUnit.MINUTES));
    server.app().signal(App.Signal.TERM); // the shutdown has begun when this returns
    delivered.countDown();
    App.Result result = server.app().await();
    assertEquals(143, result.exitCode(), result.toString());
    assertEquals(List.of(1L), confirmed, "the must-finish confirmation finished in the shutdown");
  }
}

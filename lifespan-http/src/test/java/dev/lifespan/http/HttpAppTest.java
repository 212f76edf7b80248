package dev.lifespan.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Lifespan;
import dev.lifespan.LifespanLocal;
import dev.lifespan.ShutdownReport;
import dev.lifespan.StartupFailedException;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server over real sockets on loopback: the listener's place in the lifespan, requests as tasks
 * of the application, deadlines, errors, health and the drain on shutdown.
 */
class HttpAppTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30); // bounded waits; never reached

  /** Holds the JUL logger of the server (and of the core) so its configuration is not collected. */
  private static final Logger LIFESPAN_LOG = Logger.getLogger("dev.lifespan");

  private final List<String> events = new CopyOnWriteArrayList<>();
  private final Progress progress = new Progress();
  private final List<HttpApp> apps = new ArrayList<>();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  /** Whatever a failed test left running is stopped, so that the leak check blames only it. */
  @AfterEach
  void stopEverything() throws Exception {
    for (HttpApp a : apps) a.app().requestShutdown();
    for (HttpApp a : apps) a.app().await(WAIT);
    for (AutoCloseable c : closeables) c.close();
  }

  // ---- 1. the listener's place in the lifespan

  @Test
  void theListenerAcceptsOnlyOnceAllLayersStartedAndClosesBeforeTheyTearDown() throws Exception {
    int port = freePort();
    CountDownLatch inStartup = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Lifespan database =
        Lifespan.named(
            "database",
            ctx -> {
              events.add("database started");
              ctx.proceed();
              events.add("database teardown: port " + (refused(port) ? "refused" : "open"));
            });
    Lifespan slow =
        Lifespan.named(
            "slow cache",
            ctx -> {
              inStartup.countDown();
              release.await(); // still starting: the listener must not be bound yet
              events.add("slow cache started");
              ctx.proceed();
              events.add("slow cache teardown: port " + (refused(port) ? "refused" : "open"));
            });
    HttpApp http =
        start(
            options("orders"),
            Lifespan.of(database, slow),
            HttpOptions.defaults().withHost("127.0.0.1").withPort(port),
            Routes.create()
                .get(
                    "/orders/{id}",
                    r -> {
                      events.add("served " + r.pathParam("id"));
                      return Response.text(200, "order " + r.pathParam("id"));
                    }));
    await(inStartup);
    assertEquals(App.State.STARTING, http.app().state());
    assertTrue(refused(port), "a layer is still starting: the port must not accept connections");
    assertThrows(IllegalStateException.class, http::port);

    release.countDown();
    assertTrue(http.awaitReady());
    assertEquals(port, http.port());
    try (HttpClient c = client()) {
      HttpResponse<String> r = get(c, port, "/orders/7");
      assertEquals(200, r.statusCode());
      assertEquals("order 7", r.body());
    }

    http.app().requestShutdown();
    App.Result result = result(http);
    assertEquals(App.Outcome.SUCCEEDED, result.outcome());
    assertTrue(refused(port), "after shutdown the port is closed");
    assertEquals(
        List.of(
            "database started",
            "slow cache started",
            "served 7",
            "slow cache teardown: port refused",
            "database teardown: port refused"),
        events);
    // And the listener's own layer is torn down first, innermost.
    int listener = progress.indexOf("tearing down layer 'http listener'");
    int cache = progress.indexOf("tearing down layer 'slow cache'");
    assertTrue(listener >= 0 && listener < cache, progress.toString());
  }

  // ---- 2. startup failures

  @Test
  void aLayerFailingToStartMeansThePortIsNeverOpened() throws Exception {
    int port = freePort();
    CountDownLatch inStartup = new CountDownLatch(1);
    CountDownLatch fail = new CountDownLatch(1);
    IOException broken = new IOException("database unreachable");
    HttpApp http =
        start(
            options("orders"),
            Lifespan.of(
                Lifespan.named(
                    "database",
                    ctx -> {
                      inStartup.countDown();
                      fail.await();
                      throw broken;
                    })),
            HttpOptions.defaults().withHost("127.0.0.1").withPort(port),
            Routes.create().get("/", r -> Response.text(200, "never")));
    await(inStartup);
    assertTrue(refused(port), "while the layer starts");
    fail.countDown();
    assertFalse(http.awaitReady());
    App.Result result = result(http);
    assertEquals(App.Outcome.STARTUP_FAILED, result.outcome());
    assertEquals(3, result.exitCode());
    StartupFailedException e = assertInstanceOf(StartupFailedException.class, result.failure());
    assertEquals("database", e.layer());
    assertSame(broken, e.getCause());
    assertTrue(refused(port), "after the failed startup");
    assertThrows(IllegalStateException.class, http::port, "it never bound");
    assertFalse(progress.any("layer 'http listener'"), progress.toString());
  }

  @Test
  void aPortAlreadyInUseIsAStartupFailureOfTheHttpListenerLayer() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, LOOPBACK)) {
      HttpApp http =
          start(
              options("orders"),
              Lifespan.of(recording("database")),
              HttpOptions.defaults().withHost("127.0.0.1").withPort(taken.getLocalPort()),
              Routes.create().get("/", r -> Response.text(200, "never")));
      assertFalse(http.awaitReady());
      App.Result result = result(http);
      assertEquals(App.Outcome.STARTUP_FAILED, result.outcome());
      assertEquals(3, result.exitCode());
      StartupFailedException e = assertInstanceOf(StartupFailedException.class, result.failure());
      assertEquals("http listener", e.layer());
      // One line that names the port, with the operating system's exception as its cause.
      BindException named = assertInstanceOf(BindException.class, e.getCause());
      assertEquals("port " + taken.getLocalPort() + " is already in use", named.getMessage());
      assertInstanceOf(BindException.class, named.getCause());
      assertNotEquals(named.getMessage(), named.getCause().getMessage());
      assertTrue(e.getMessage().contains("'http listener'"), e.getMessage());
      // The layers outside it started and were torn down.
      assertEquals(List.of("start database", "stop database"), events);
    }
  }

  @Test
  void anAddressThatCannotBeBoundIsNamedWithTheOperatingSystemsReason() throws Exception {
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is no address of this machine.
    HttpApp http =
        start(
            options("orders"),
            Lifespan.of(),
            HttpOptions.defaults().withHost("192.0.2.1").withPort(8080),
            Routes.create().get("/", r -> Response.text(200, "never")));
    assertFalse(http.awaitReady());
    StartupFailedException e =
        assertInstanceOf(StartupFailedException.class, result(http).failure());
    assertEquals("http listener", e.layer());
    BindException named = assertInstanceOf(BindException.class, e.getCause());
    assertEquals(
        "cannot bind 192.0.2.1:8080: " + named.getCause().getMessage(), named.getMessage());
  }

  @Test
  void aDumpPortInUseFailsTheStartupAndReleasesTheMainPortItAlreadyBound() throws Exception {
    int port = freePort();
    try (ServerSocket taken = new ServerSocket(0, 50, LOOPBACK)) {
      HttpApp http =
          start(
              options("orders"),
              Lifespan.of(),
              HttpOptions.defaults()
                  .withHost("127.0.0.1")
                  .withPort(port)
                  .withDumpEndpoint(taken.getLocalPort()),
              Routes.create().get("/", r -> Response.text(200, "never")));
      assertFalse(http.awaitReady());
      App.Result result = result(http);
      assertEquals(App.Outcome.STARTUP_FAILED, result.outcome());
      StartupFailedException e = assertInstanceOf(StartupFailedException.class, result.failure());
      assertEquals("http listener", e.layer());
      assertEquals(
          "dump endpoint port " + taken.getLocalPort() + " is already in use",
          e.getCause().getMessage());
      assertInstanceOf(BindException.class, e.getCause().getCause());
    }
    assertTrue(refused(port));
    try (ServerSocket again = new ServerSocket(port, 50, LOOPBACK)) {
      assertEquals(port, again.getLocalPort(), "the main port was released");
    }
  }

  // ---- 3. lifespan-locals, two servers in one JVM

  private static final LifespanLocal<String> REGION = LifespanLocal.named("region");
  private static final LifespanLocal<AtomicInteger> HITS =
      LifespanLocal.withInitial("hits", AtomicInteger::new);

  @Test
  void lifespanLocalsResolveInHandlersAndTwoServersInOneJvmDoNotShareThem() throws Exception {
    Routes routes =
        Routes.create()
            .get(
                "/whoami",
                r -> Response.text(200, REGION.get() + " #" + HITS.get().incrementAndGet()));
    HttpApp eu = start(options("eu"), region("eu-west"), loopback(), routes);
    HttpApp us = start(options("us"), region("us-east"), loopback(), routes);
    assertTrue(eu.awaitReady());
    assertTrue(us.awaitReady());
    assertNotEquals(eu.port(), us.port());
    try (HttpClient c = client()) {
      assertEquals("eu-west #1", get(c, eu.port(), "/whoami").body());
      assertEquals("eu-west #2", get(c, eu.port(), "/whoami").body());
      assertEquals("us-east #1", get(c, us.port(), "/whoami").body());
      assertEquals("eu-west #3", get(c, eu.port(), "/whoami").body());
      assertEquals("us-east #2", get(c, us.port(), "/whoami").body());
    }
    assertFalse(REGION.isSet(), "the test thread belongs to neither application");
    eu.app().requestShutdown();
    assertEquals(App.Outcome.SUCCEEDED, result(eu).outcome());
    assertTrue(refused(eu.port()));
    try (HttpClient c = client()) {
      assertEquals("us-east #3", get(c, us.port(), "/whoami").body(), "us is unaffected");
    }
    us.app().requestShutdown();
    assertEquals(App.Outcome.SUCCEEDED, result(us).outcome());
  }

  private static Lifespan region(String name) {
    return Lifespan.named(
        "region",
        ctx -> {
          REGION.set(name);
          ctx.proceed();
        });
  }

  // ---- 4. background work from handlers

  @Test
  void fireAndForgetFromAHandlerOutlivesTheRequestAndStopsWithTheApplication() throws Exception {
    CountDownLatch auditRunning = new CountDownLatch(1);
    CountDownLatch auditCancelled = new CountDownLatch(1);
    AtomicReference<Task<Void>> audit = new AtomicReference<>();
    AtomicReference<Task<Void>> confirm = new AtomicReference<>();
    Routes routes =
        Routes.create()
            .post(
                "/orders/{id}",
                r -> {
                  String id = r.pathParam("id");
                  audit.set(
                      Supervisor.fireAndForget(
                          "audit order " + id,
                          () -> {
                            auditRunning.countDown();
                            try {
                              CancelScope.sleep(Duration.ofDays(1));
                            } finally {
                              events.add("audit cancelled");
                              auditCancelled.countDown();
                            }
                          }));
                  confirm.set(
                      Supervisor.background()
                          .spawnMustFinish(
                              "confirm order " + id,
                              () -> {
                                auditCancelled.await(); // so still running when the shutdown began
                                events.add("order " + id + " confirmed");
                              }));
                  return Response.text(202, "accepted " + id);
                });
    HttpApp http = start(options("shop"), Lifespan.of(), loopback(), routes);
    assertTrue(http.awaitReady());
    try (HttpClient c = client()) {
      HttpResponse<String> r = post(c, http.port(), "/orders/7", "");
      assertEquals(202, r.statusCode());
      assertEquals("accepted 7", r.body());
    }
    await(auditRunning);
    assertFalse(audit.get().isDone(), "the response was sent while the task still runs");
    assertFalse(confirm.get().isDone());
    assertTrue(events.isEmpty(), events.toString());

    http.app().requestShutdown();
    App.Result result = result(http);
    assertEquals(App.Outcome.SUCCEEDED, result.outcome());
    assertTrue(audit.get().isDone());
    assertTrue(confirm.get().isDone());
    assertEquals(List.of("audit cancelled", "order 7 confirmed"), events);
    ShutdownReport background = report(result, "shop/background");
    assertEquals(1, background.cancelled(), background.toString());
    assertEquals(1, background.completed(), background.toString());
    assertTrue(result.stragglers().isEmpty());
    assertTrue(
        progress.any(
            "stopping supervisor 'shop/background': cancelling 1 task, waiting for 1 must-finish:"
                + " 'confirm order 7'"),
        progress.toString());
  }

  // ---- 5. deadlines

  @Test
  void aHandlerPastItsDeadlineIsCancelledAndTheClientGets503() throws Exception {
    List<String> cancelled = new CopyOnWriteArrayList<>();
    Handler stuck =
        r -> {
          try {
            CancelScope.sleep(Duration.ofDays(1));
          } catch (CancelledException e) {
            cancelled.add(r.path());
            throw e;
          }
          return Response.text(200, "never");
        };
    Routes routes =
        Routes.create()
            .get("/own", Duration.ofMillis(150), stuck)
            .get("/default", stuck)
            .get(
                "/slow-but-allowed",
                Duration.ofSeconds(20),
                r -> {
                  CancelScope.sleep(Duration.ofMillis(300)); // past the default, within its own
                  return Response.text(200, "done");
                });
    HttpApp http =
        start(
            options("reports"),
            Lifespan.of(),
            loopback().withDeadline(Duration.ofMillis(200)),
            routes);
    assertTrue(http.awaitReady());
    try (HttpClient c = client()) {
      HttpResponse<String> own = get(c, http.port(), "/own");
      assertEquals(503, own.statusCode());
      assertEquals("deadline of 150 ms exceeded\n", own.body());
      assertEquals("1", own.headers().firstValue("Retry-After").orElseThrow());
      HttpResponse<String> byDefault = get(c, http.port(), "/default");
      assertEquals(503, byDefault.statusCode());
      assertEquals("deadline of 200 ms exceeded\n", byDefault.body());
      HttpResponse<String> allowed = get(c, http.port(), "/slow-but-allowed");
      assertEquals(200, allowed.statusCode());
      assertEquals("done", allowed.body());
      assertEquals(200, get(c, http.port(), "/health/ready").statusCode(), "still serving");
    }
    assertEquals(List.of("/own", "/default"), cancelled, "each handler saw its cancellation");
    http.app().requestShutdown();
    assertEquals(App.Outcome.SUCCEEDED, result(http).outcome());
  }

  // ---- 6. failures

  @Test
  void aHandlerThatThrowsGets500WithoutDetailsAndTheTraceIsLoggedOnce() throws Exception {
    IllegalStateException boom = new IllegalStateException("secret: password=hunter2");
    Records records = new Records();
    LIFESPAN_LOG.addHandler(records);
    LIFESPAN_LOG.setUseParentHandlers(false); // the failure is provoked: captured, not printed
    try {
      Routes routes =
          Routes.create()
              .get(
                  "/boom",
                  r -> {
                    throw boom;
                  })
              .post(
                  "/orders/{id}",
                  r -> {
                    throw new HttpException(409, "order " + r.pathParam("id") + " already shipped");
                  });
      HttpApp http = start(options("orders"), Lifespan.of(), loopback(), routes);
      assertTrue(http.awaitReady());
      try (HttpClient c = client()) {
        HttpResponse<String> r = get(c, http.port(), "/boom");
        assertEquals(500, r.statusCode());
        assertEquals("internal error\n", r.body());
        assertFalse(r.body().contains("hunter2"));
        assertFalse(r.body().contains("Exception"));
        assertFalse(r.body().contains("\tat "));

        HttpResponse<String> conflict = post(c, http.port(), "/orders/7", "{}");
        assertEquals(409, conflict.statusCode());
        assertEquals("order 7 already shipped\n", conflict.body());
        assertEquals(
            "text/plain; charset=utf-8",
            conflict.headers().firstValue("Content-Type").orElseThrow());
      }
      http.app().requestShutdown();
      assertEquals(App.Outcome.SUCCEEDED, result(http).outcome(), "a failed request is no failure");

      List<LogRecord> logged = records.matching(l -> l.getThrown() == boom);
      assertEquals(1, logged.size(), "logged once: " + records);
      LogRecord l = logged.getFirst();
      assertEquals("dev.lifespan.http", l.getLoggerName());
      assertEquals(Level.SEVERE, l.getLevel());
      assertTrue(l.getMessage().contains("GET /boom"), l.getMessage());
      assertTrue(
          records.matching(x -> x.getThrown() instanceof HttpException).isEmpty(),
          "an HttpException is an answer, not a failure: " + records);
    } finally {
      LIFESPAN_LOG.removeHandler(records);
      LIFESPAN_LOG.setUseParentHandlers(true);
    }
  }

  // ---- 7. health through a shutdown

  @Test
  void healthGoesFromReadyToDrainingAndTheListenerClosesAfterTheDrainDelay() throws Exception {
    Duration drainDelay = Duration.ofSeconds(1);
    HttpApp http =
        start(
            options("orders").withDrainDelay(drainDelay),
            Lifespan.of(),
            loopback(),
            Routes.create().get("/", r -> Response.text(200, "hello")));
    assertTrue(http.awaitReady());
    int port = http.port();
    long signalled;
    try (HttpClient c = client()) {
      HttpResponse<String> ready = get(c, port, "/health/ready");
      assertEquals(200, ready.statusCode());
      assertEquals("ready\n", ready.body());
      HttpResponse<String> liveWhileReady = get(c, port, "/health/live");
      assertEquals(200, liveWhileReady.statusCode());
      assertEquals("live (app READY)\n", liveWhileReady.body());

      signalled = System.nanoTime();
      http.app().signal(App.Signal.TERM);
      HttpResponse<String> draining = get(c, port, "/health/ready");
      assertEquals(503, draining.statusCode());
      assertEquals("not ready: DRAINING\n", draining.body());
      HttpResponse<String> live = get(c, port, "/health/live");
      assertEquals(200, live.statusCode());
      assertEquals("live (app DRAINING)\n", live.body());
      HttpResponse<String> served = get(c, port, "/");
      assertEquals(200, served.statusCode(), "still serving while draining");
      assertEquals("close", served.headers().firstValue("Connection").orElse(""));
      assertFalse(
          progress.any("] stopping the main body"),
          "all the above ran within the drain delay; "
              + (System.nanoTime() - signalled) / 1_000_000
              + " ms\n"
              + progress);
    }
    awaitRefused(port);
    assertTrue(
        System.nanoTime() - signalled >= drainDelay.toNanos(),
        "the listener stayed open for the drain delay");
    App.Result result = result(http);
    assertEquals(App.Outcome.TERMINATED, result.outcome());
    assertEquals(143, result.exitCode());
  }

  // ---- 8. graceful drain

  @Test
  void anInFlightRequestCompletesWhileNewConnectionsAreRefused() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    String big = "x".repeat(100_000); // a response that is not one packet
    HttpApp http =
        start(
            options("orders"),
            Lifespan.of(),
            loopback(),
            Routes.create()
                .get(
                    "/slow",
                    r -> {
                      inHandler.countDown();
                      release.await();
                      return Response.text(200, big);
                    }));
    assertTrue(http.awaitReady());
    int port = http.port();
    try (Socket inFlight = connect(port)) {
      send(inFlight, "GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n");
      await(inHandler);
      http.app().signal(App.Signal.TERM);
      awaitRefused(port); // the listener closed at once, with the request still in flight
      assertEquals(1, release.getCount());
      assertEquals(App.State.DRAINING, http.app().state());
      release.countDown();
      RawResponse r = RawResponse.read(inFlight.getInputStream());
      assertEquals(200, r.status);
      assertEquals(big, r.body, "the whole body");
      assertEquals("close", r.headers.get("connection"));
    }
    App.Result result = result(http);
    assertEquals(App.Outcome.TERMINATED, result.outcome());
    assertTrue(refused(port));
  }

  @Test
  void aConnectionClosedInTheMiddleOfItsRequestDoesNotHoldTheDrainUntilTheGraceEnds()
      throws Exception {
    HttpApp http =
        start(
            options("orders"), // a grace of 10 s
            Lifespan.of(),
            loopback(),
            Routes.create().get("/", r -> Response.text(200, "hello")));
    assertTrue(http.awaitReady());
    int port = http.port();
    try (Socket halfRequest = connect(port)) {
      send(halfRequest, "GET / HTT"); // the server is reading it...
      awaitDump(http, "task 'http connection' RUNNING");
      http.app().signal(App.Signal.TERM);
      awaitRefused(port);
    } // ... when the client goes away: nothing is in flight any more
    App.Result result = result(http);
    assertEquals(App.Outcome.TERMINATED, result.outcome());
    assertTrue(
        result.shutdownTime().compareTo(Duration.ofSeconds(3)) < 0,
        "stopped once nothing was in flight, not at the end of the grace period: "
            + result.shutdownTime());
  }

  /** Waits (bounded) until the application's task dump shows {@code text}, polling. */
  private static void awaitDump(HttpApp http, String text) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!http.app().dump(false).toText().contains(text)) {
      if (System.nanoTime() - end > 0) fail(text + " not in\n" + http.app().dump(false).toText());
      LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
    }
  }

  // ---- 9. bad input

  @Test
  void badInputGetsItsStatusAndTheServerKeepsServing() throws Exception {
    HttpApp http =
        start(
            options("orders"),
            Lifespan.of(),
            loopback().withMaxBodyBytes(1024),
            Routes.create()
                .get("/orders/{id}", r -> Response.text(200, "order " + r.pathParam("id")))
                .post("/orders", r -> Response.text(201, "created " + r.body().length))
                .add("PUT", "/orders/{id}", null, r -> Response.empty(204))
                .get("/search", r -> Response.text(200, "q=" + r.query("q").orElse("-"))));
    assertTrue(http.awaitReady());
    int port = http.port();
    try (HttpClient c = client()) {
      // Oversize, announced by Content-Length and streamed without it (chunked).
      HttpResponse<String> tooLarge = post(c, port, "/orders", "y".repeat(4096));
      assertEquals(413, tooLarge.statusCode());
      assertEquals("request body over 1024 bytes\n", tooLarge.body());
      assertServing(c, port);
      HttpResponse<String> chunked =
          c.send(
              request(port, "/orders")
                  .POST(
                      HttpRequest.BodyPublishers.ofInputStream(
                          () -> new java.io.ByteArrayInputStream(new byte[4096])))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(413, chunked.statusCode());
      assertServing(c, port);
      HttpResponse<String> fits = post(c, port, "/orders", "y".repeat(1024));
      assertEquals(201, fits.statusCode());
      assertEquals("created 1024", fits.body());
      HttpResponse<String> chunkedFits =
          c.send(
              request(port, "/orders")
                  .POST(
                      HttpRequest.BodyPublishers.ofInputStream(
                          () -> new java.io.ByteArrayInputStream(new byte[100])))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(201, chunkedFits.statusCode());
      assertEquals("created 100", chunkedFits.body());
      HttpResponse<String> noBody =
          c.send(
              request(port, "/orders").POST(HttpRequest.BodyPublishers.noBody()).build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals("created 0", noBody.body());

      HttpResponse<String> unknown = get(c, port, "/customers/7");
      assertEquals(404, unknown.statusCode());
      assertServing(c, port);

      HttpResponse<String> wrongMethod =
          c.send(request(port, "/orders/7").DELETE().build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(405, wrongMethod.statusCode());
      assertEquals(
          "GET, HEAD, PUT, OPTIONS", wrongMethod.headers().firstValue("Allow").orElseThrow());
      assertServing(c, port);

      assertEquals("q=a b&c", get(c, port, "/search?q=a%20b%26c").body());
    }
    // Malformed escapes cannot be sent with the HTTP client: raw requests.
    for (String length : List.of("-1", "x1", "99999999999999999999")) {
      RawResponse r =
          raw(
              port,
              "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  + length
                  + "\r\nConnection: close\r\n\r\n");
      assertEquals(400, r.status, "Content-Length " + length + ": " + r);
    }
    for (String target : List.of("/search?q=%zz", "/search?q=%", "/search?q=%e", "/orders/%zz")) {
      RawResponse r =
          raw(port, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assertEquals(400, r.status, target + ": " + r);
      try (HttpClient c = client()) {
        assertServing(c, port);
      }
    }
    http.app().requestShutdown();
    assertEquals(App.Outcome.SUCCEEDED, result(http).outcome());
  }

  private static void assertServing(HttpClient c, int port) throws Exception {
    HttpResponse<String> r = get(c, port, "/orders/1");
    assertEquals(200, r.statusCode());
    assertEquals("order 1", r.body());
  }

  // ---- 10. the grace period ends

  @Test
  void requestsStillRunningWhenTheGraceEndsAreCancelledAndNeverAnswered200() throws Exception {
    Duration grace = Duration.ofMillis(300);
    Duration kill = Duration.ofSeconds(1);
    CountDownLatch inHandlers = new CountDownLatch(2);
    List<String> cancelled = new CopyOnWriteArrayList<>();
    Handler slow =
        r -> {
          inHandlers.countDown();
          try {
            // Longer than the grace; cancellable (it ignores nothing).
            CancelScope.sleep(Duration.ofMillis(Long.parseLong(r.pathParam("ms"))));
          } catch (CancelledException e) {
            cancelled.add(r.pathParam("ms"));
            throw e;
          }
          return Response.text(200, "finished after the grace");
        };
    HttpApp http =
        start(
            options("orders").withGrace(grace).withKillTimeout(kill),
            Lifespan.of(),
            loopback(),
            Routes.create().get("/sleep/{ms}", slow));
    assertTrue(http.awaitReady());
    int port = http.port();
    try (HttpClient c = client()) {
      // One that would end after the grace but within the next whole second; one much later.
      Future<HttpResponse<String>> soon =
          c.sendAsync(request(port, "/sleep/700").build(), HttpResponse.BodyHandlers.ofString());
      Future<HttpResponse<String>> late =
          c.sendAsync(request(port, "/sleep/10000").build(), HttpResponse.BodyHandlers.ofString());
      await(inHandlers);
      http.app().signal(App.Signal.TERM);
      App.Result result = result(http);
      assertEquals(App.Outcome.WORK_ABANDONED, result.outcome(), "requests cut at the grace's end");
      assertTrue(
          result.shutdownTime().compareTo(grace.plus(kill)) < 0,
          "stopped within grace + kill timeout: " + result.shutdownTime());
      for (var f : List.of(soon, late)) {
        // Never a 200. The brief allows a closed connection, but here each can still be answered.
        assertEquals("503 shutting down\n", outcome(f));
      }
      assertEquals(2, cancelled.size(), "both saw their cancellation: " + cancelled);
    }
  }

  /** "503 shutting down", "200 ...": status and body; or "closed" without a response. */
  private static String outcome(Future<HttpResponse<String>> f) throws Exception {
    try {
      HttpResponse<String> r = f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return r.statusCode() + " " + r.body();
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof IOException) return "closed";
      throw e;
    }
  }

  // ---- fixtures

  private HttpApp start(App.Options o, Lifespan lifespan, HttpOptions options, Routes routes) {
    HttpApp a = HttpApp.start(o, lifespan, options, routes);
    apps.add(a);
    return a;
  }

  private App.Options options(String name) {
    return App.Options.named(name)
        .withGrace(Duration.ofSeconds(10))
        .withProgress(progress::accept)
        .withProgressInterval(Duration.ofSeconds(1));
  }

  private static HttpOptions loopback() {
    return HttpOptions.defaults().withHost("127.0.0.1").withPort(0);
  }

  private Lifespan recording(String name) {
    return Lifespan.named(
        name,
        ctx -> {
          events.add("start " + name);
          ctx.proceed();
          events.add("stop " + name);
        });
  }

  private HttpClient client() {
    HttpClient c =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    closeables.add(c); // closed once more after the test, in case it failed before closing it
    return c;
  }

  private static HttpRequest.Builder request(int port, String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT);
  }

  private static HttpResponse<String> get(HttpClient c, int port, String path) throws Exception {
    return c.send(request(port, path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(HttpClient c, int port, String path, String body)
      throws Exception {
    return c.send(
        request(port, path).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static App.Result result(HttpApp http) throws InterruptedException {
    return http.app()
        .await(WAIT)
        .orElseThrow(() -> new AssertionError("application '" + http.app().name() + "' hangs"));
  }

  private static ShutdownReport report(App.Result r, String supervisor) {
    return r.reports().stream()
        .filter(x -> x.supervisor().equals(supervisor))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no report of " + supervisor + " in " + r));
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    if (!latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) fail("timed out waiting");
  }

  /** A port that was free a moment ago. */
  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, LOOPBACK)) {
      return s.getLocalPort();
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(LOOPBACK, port), 5_000);
      s.setSoTimeout((int) WAIT.toMillis());
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /**
   * Whether a connection to {@code port} is refused by the operating system. A connect that is
   * reset (it was queued by a listener that closed at that moment) is not counted as refused.
   */
  private static boolean refused(int port) throws IOException {
    try {
      connect(port).close();
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (java.net.SocketException reset) {
      return false;
    }
  }

  /** Waits (bounded) until connections to {@code port} are refused, polling every few ms. */
  private static void awaitRefused(int port) throws IOException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!refused(port)) {
      if (System.nanoTime() - end > 0) fail("port " + port + " still accepts connections");
      LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
    }
  }

  private static void send(Socket s, String request) throws IOException {
    s.getOutputStream().write(request.getBytes(ISO_8859_1));
    s.getOutputStream().flush();
  }

  /** Sends {@code request} on a new connection and reads one response. */
  private static RawResponse raw(int port, String request) throws IOException {
    try (Socket s = connect(port)) {
      send(s, request);
      return RawResponse.read(s.getInputStream());
    }
  }

  /** A response read off the wire: it must be complete (its whole Content-Length). */
  record RawResponse(int status, Map<String, String> headers, String body) {
    static RawResponse read(InputStream in) throws IOException {
      String statusLine = line(in);
      if (statusLine == null) throw new IOException("connection closed without a response");
      String[] parts = statusLine.split(" ", 3);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String l = line(in); l != null && !l.isEmpty(); l = line(in)) {
        int colon = l.indexOf(':');
        headers.put(
            l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
      }
      int status = Integer.parseInt(parts[1]);
      String length = headers.get("content-length");
      if (length == null && (status == 204 || status == 304)) length = "0"; // never a body
      assertNotNull(length, "a Content-Length in " + headers);
      byte[] body = in.readNBytes(Integer.parseInt(length));
      assertEquals(Integer.parseInt(length), body.length, "a complete body");
      return new RawResponse(status, headers, new String(body, ISO_8859_1));
    }

    private static String line(InputStream in) throws IOException {
      StringBuilder sb = new StringBuilder();
      for (int b = in.read(); b != -1; b = in.read()) {
        if (b == '\n') {
          int n = sb.length();
          return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
        }
        sb.append((char) b);
      }
      return sb.isEmpty() ? null : sb.toString();
    }
  }

  /** Progress lines of the applications, with a way to wait for one. */
  static final class Progress {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();

    void accept(String line) {
      synchronized (lock) {
        lines.add(line);
        lock.notifyAll();
      }
    }

    boolean any(String text) {
      return indexOf(text) >= 0;
    }

    int indexOf(String text) {
      for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(text)) return i;
      return -1;
    }

    void awaitLine(String text) throws InterruptedException {
      long end = System.nanoTime() + WAIT.toNanos();
      synchronized (lock) {
        while (!any(text)) {
          long left = end - System.nanoTime();
          if (left <= 0) fail("no progress line containing '" + text + "' in\n" + this);
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
      }
    }

    @Override
    public String toString() {
      return String.join("\n", lines);
    }
  }

  /** Log records of {@code dev.lifespan} and below. */
  static final class Records extends java.util.logging.Handler {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    @Override
    public void publish(LogRecord r) {
      records.add(r);
    }

    List<LogRecord> matching(Predicate<LogRecord> p) {
      return records.stream().filter(p).toList();
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}

    @Override
    public String toString() {
      return records.stream()
          .map(r -> r.getLevel() + " " + r.getLoggerName() + ": " + r.getMessage())
          .toList()
          .toString();
    }
  }
}

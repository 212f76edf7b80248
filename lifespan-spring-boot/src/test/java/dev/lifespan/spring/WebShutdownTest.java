package dev.lifespan.spring;

import static dev.lifespan.spring.WebServerStopWait.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.test.FakeClock;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.support.GenericApplicationContext;

/** The drain delay on a real embedded web server, Tomcat and Jetty, on a fake clock. */
class WebShutdownTest {

  /** The servlet factory of {@code server}: Spring Boot 4's class, or 3.5's. */
  static void server(GenericApplicationContext context, String server) {
    String type = server.equals("jetty") ? "Jetty" : "Tomcat";
    for (String name :
        new String[] {
          "org.springframework.boot." + server + ".servlet." + type + "ServletWebServerFactory",
          "org.springframework.boot.web.embedded." + server + "." + type + "ServletWebServerFactory"
        }) {
      try {
        context.registerBean(server + "ServletWebServerFactory", Class.forName(name));
        return;
      } catch (ClassNotFoundException e) {
        // the other version
      }
    }
    throw new AssertionError("no " + type + "ServletWebServerFactory on the class path");
  }

  @ParameterizedTest
  @ValueSource(strings = {"tomcat", "jetty"})
  void duringTheDrainDelayReadinessAnswers503WhileRequestsStillAnswer200(String server)
      throws Exception {
    FakeClock clock = new FakeClock();
    var context =
        Contexts.web(
            c -> {
              c.registerBean(
                  "fakeClock",
                  LifespanAppCustomizer.class,
                  () -> o -> o.withClock(clock).withProgressInterval(Duration.ofHours(1)));
              server(c, server);
            },
            "lifespan.name=drain-" + server,
            "lifespan.shutdown.drain-delay=30s",
            "lifespan.shutdown.grace=60s");
    int port = Contexts.port(context);
    LifespanApplication app = context.getBean(LifespanApplication.class);
    var readiness = context.getBean(TestApp.Readiness.class);
    assertEquals(200, Contexts.get(port, "/actuator/health/readiness").statusCode());
    assertEquals(ReadinessState.ACCEPTING_TRAFFIC, app.springReadiness().orElseThrow());
    // WebServerApplicationContext changed packages in Spring Boot 4
    String webServer =
        context.getClass().getMethod("getWebServer").invoke(context).getClass().getSimpleName();
    assertTrue(webServer.toLowerCase(java.util.Locale.ROOT).startsWith(server), webServer);

    Instant start = clock.instant();
    Thread closing = Thread.ofPlatform().name("close").start(context::close);
    readiness.lifespanRefusing.await();
    assertEquals(App.State.DRAINING, app.app().state());
    var ready = Contexts.get(port, "/actuator/health/readiness");
    assertEquals(503, ready.statusCode(), ready.body());
    var hello = Contexts.get(port, "/hello");
    assertEquals(200, hello.statusCode());
    assertEquals("hello", hello.body());
    assertTrue(closing.isAlive(), "the close waits for the drain delay");

    clock.awaitDeadline(start.plus(Duration.ofSeconds(30)), Duration.ofSeconds(30));
    clock.advance(Duration.ofSeconds(30)); // the drain delay has passed
    closing.join();
    App.Result result = app.result().orElseThrow();
    assertEquals(App.Outcome.SUCCEEDED, result.outcome());
    assertTrue(result.reports().stream().allMatch(r -> r.clean()), result.reports().toString());
  }

  /** Tomcat's {@code executorTerminationTimeoutMillis}, or Jetty's thread pool's stop timeout. */
  private static String stopWait(Object context) throws ReflectiveOperationException {
    Object webServer = call(context, "getWebServer");
    if (webServer.getClass().getSimpleName().startsWith("Tomcat")) {
      Object service = call(call(webServer, "getTomcat"), "getService");
      Object connector = ((Object[]) call(service, "findConnectors"))[0];
      return String.valueOf(
          connector
              .getClass()
              .getMethod("getProperty", String.class)
              .invoke(connector, "executorTerminationTimeoutMillis"));
    }
    return String.valueOf(
        call(call(call(webServer, "getServer"), "getThreadPool"), "getStopTimeout"));
  }

  /**
   * A request that never ends, not even when interrupted, holds the web server's graceful shutdown
   * until the grace period ends, not for Spring's 30 s; meanwhile the log says which request it
   * waits for, and again when the web server stopped without it; the web server's stop does not
   * wait its seconds more for it, so the application ends within its budget.
   */
  @ParameterizedTest
  @ValueSource(strings = {"tomcat", "jetty"})
  void theGracefulShutdownGetsWhatIsLeftOfTheGraceAfterTheDrainAndNamesTheRequestItWaitsFor(
      String server) throws Exception {
    TestApp.slowEntered = new java.util.concurrent.CountDownLatch(1);
    TestApp.slowRelease = new java.util.concurrent.CountDownLatch(1);
    var context =
        Contexts.web(
            c -> server(c, server),
            "lifespan.name=hung",
            "logging.level.dev.lifespan.spring=INFO",
            "lifespan.shutdown.drain-delay=1s",
            "lifespan.shutdown.grace=4s");
    try (var http = java.net.http.HttpClient.newHttpClient();
        var log = new LogCapture()) {
      var inFlight =
          http.sendAsync(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(
                          "http://127.0.0.1:" + Contexts.port(context) + "/slow?stubborn=true"))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      TestApp.slowEntered.await();
      LifespanApplication app = context.getBean(LifespanApplication.class);
      assertEquals(server.equals("jetty") ? "200" : "0", stopWait(context), "the stop's wait");
      long start = System.nanoTime();
      context.close(); // the request never ends by itself
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      TestApp.slowRelease.countDown();
      assertTrue(
          took.compareTo(Duration.ofSeconds(20)) < 0,
          "the close took " + took + ": Spring's phase timeout (30 s) was not fitted to the grace");
      inFlight.handle((r, e) -> null).join();
      // Tomcat's stop did not wait 5 s more for it: the budget held, no hard deadline
      App.Result result = app.result().orElseThrow();
      assertEquals(App.Outcome.SUCCEEDED, result.outcome(), log.messages());
      String logged = log.messages();
      assertTrue(
          Pattern.compile(
                  "\\[hung] the web server's graceful shutdown waits for 1 request: 'GET /slow'"
                      + " from 127\\.0\\.0\\.1:\\d+ for \\d+\\.\\d s; \\d+\\.\\d s of grace left")
              .matcher(logged)
              .find(),
          logged);
      assertTrue(
          Pattern.compile(
                  "\\[hung] the web server stopped with 1 request unfinished: 'GET /slow' from"
                      + " 127\\.0\\.0\\.1:\\d+ for \\d+\\.\\d s")
              .matcher(logged)
              .find(),
          logged);
    }
  }
}

package dev.lifespan.http;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.http.HttpAppTest.RawResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Slow, oversized, malformed and forging clients, over real sockets on loopback (issue 16): each is
 * answered with its status and one line of the server's own text, or closed within its timeout, and
 * none holds the server or its shutdown.
 */
class HostileClientsTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration WAIT = Duration.ofSeconds(30); // bounded waits; never reached
  private static final Logger LIFESPAN_LOG = Logger.getLogger("dev.lifespan");

  private final List<HttpApp> apps = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void stopEverything() throws Exception {
    for (Socket s : sockets) s.close();
    for (HttpApp a : apps) a.app().requestShutdown();
    for (HttpApp a : apps) a.app().await(WAIT);
  }

  private static final Routes ROUTES =
      Routes.create()
          .get("/hello", r -> Response.text(200, "hello\n"))
          .post("/echo", r -> Response.text(200, r.body().length + " bytes\n"))
          .post("/orders/{id}", r -> Response.empty(204))
          .get(
              "/boom",
              r -> {
                throw new IllegalStateException("boom");
              })
          .get("/header", r -> Response.text(200, "x").withHeader("X-Id", r.query("id").get()));

  // ---- timeouts

  @Test
  void aHeadDribbledPastTheHeaderTimeoutGets408AndTheConnectionIsClosed() throws Exception {
    int port = start(loopback().withHeaderTimeout(Duration.ofMillis(300)));
    Socket s = connect(port);
    long t0 = System.nanoTime();
    send(s, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: a"); // and nothing more
    RawResponse r = RawResponse.read(s.getInputStream());
    assertEquals(408, r.status());
    assertEquals("request head not received within 300 ms\n", r.body());
    assertEquals("close", r.headers().get("connection"));
    assertClosed(s);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 250 && ms < 5_000, "answered after the timeout: " + ms + " ms");
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheHeaderTimeoutWithoutAnAnswer() throws Exception {
    int port = start(loopback().withHeaderTimeout(Duration.ofMillis(200)));
    Socket s = connect(port);
    assertEquals(-1, s.getInputStream().read(), "closed, nothing sent");
  }

  @Test
  void aKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
    int port = start(loopback().withIdleTimeout(Duration.ofMillis(200)));
    Socket s = connect(port);
    send(s, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    RawResponse r = RawResponse.read(s.getInputStream());
    assertEquals(200, r.status());
    assertEquals(null, r.headers().get("connection"), "kept alive");
    long t0 = System.nanoTime();
    assertEquals(-1, s.getInputStream().read(), "closed without an answer");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms >= 150 && ms < 5_000, "after the idle timeout: " + ms + " ms");
  }

  @Test
  void anHttp10ClientIsKeptAliveOnlyIfItAsks() throws Exception {
    int port = start(loopback());
    Socket s = connect(port);
    send(s, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    RawResponse kept = RawResponse.read(s.getInputStream());
    assertEquals(200, kept.status());
    assertEquals("keep-alive", kept.headers().get("connection"));
    send(s, "GET /hello HTTP/1.0\r\n\r\n");
    RawResponse closed = RawResponse.read(s.getInputStream());
    assertEquals(200, closed.status());
    assertEquals("close", closed.headers().get("connection"));
    assertClosed(s);
  }

  @Test
  void aBodyShorterThanItsContentLengthGets408AfterTheBodyTimeout() throws Exception {
    int port = start(loopback().withBodyTimeout(Duration.ofMillis(300)));
    Socket s = connect(port);
    send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this");
    RawResponse r = RawResponse.read(s.getInputStream());
    assertEquals(408, r.status());
    assertEquals("request body not received within 300 ms\n", r.body());
    assertEquals("close", r.headers().get("connection"));
    assertClosed(s);
  }

  @Test
  void theRoutesDeadlineCoversReadingTheBody() throws Exception {
    // The body timeout is the default 30 s; the route's deadline of 300 ms ends the read.
    int port = start(loopback().withDeadline(Duration.ofMillis(300)));
    Socket s = connect(port);
    send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
    RawResponse r = RawResponse.read(s.getInputStream());
    assertEquals(408, r.status());
    assertEquals("request body not received within 300 ms\n", r.body());
    assertClosed(s);
  }

  // ---- shutdown

  @Test
  void atShutdownConnectionsWithoutACompleteRequestAreClosedAtOnceAndRequestsInFlightFinish()
      throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    HttpApp http =
        start(
            App.Options.named("hostile").withGrace(Duration.ofSeconds(20)),
            loopback(),
            ROUTES.get(
                "/slow",
                r -> {
                  inHandler.countDown();
                  release.await();
                  return Response.text(200, "done\n");
                }));
    int port = http.port();
    List<Socket> slow = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Socket head = connect(port);
      send(head, "GET /hello HTTP/1.1\r\nHost: x\r\n"); // a head without its end
      slow.add(head);
      Socket body = connect(port);
      send(body, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
      slow.add(body);
    }
    Socket idle = connect(port); // a kept-alive connection between two requests
    send(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(200, RawResponse.read(idle.getInputStream()).status());
    slow.add(idle);
    Socket inFlight = connect(port);
    send(inFlight, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await(inHandler);
    // Every slow connection has reached the server: the idle one answered, the in-flight one is in
    // its handler; the others are read as far as they go once the server sees them.

    long t0 = System.nanoTime();
    http.app().signal(App.Signal.TERM);
    for (Socket s : slow) assertClosed(s);
    assertEquals(App.State.DRAINING, http.app().state(), "closed while the request is in flight");
    release.countDown();
    RawResponse done = RawResponse.read(inFlight.getInputStream());
    assertEquals(200, done.status());
    assertEquals("done\n", done.body());
    assertEquals("close", done.headers().get("connection"));
    App.Result result = http.app().await(WAIT).orElseThrow();
    assertEquals(App.Outcome.TERMINATED, result.outcome());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(ms < 5_000, "41 slow clients did not hold the 20 s grace: " + ms + " ms");
  }

  @Test
  void aClientThatDoesNotReadItsResponseDoesNotHoldTheShutdownPastTheGrace() throws Exception {
    Duration grace = Duration.ofMillis(300);
    byte[] big = new byte[64 << 20]; // far more than the socket buffers hold
    HttpApp http =
        start(
            App.Options.named("hostile").withGrace(grace),
            loopback(),
            Routes.create()
                .get("/big", r -> new Response(200, "application/octet-stream", big, Map.of())));
    Socket s = connect(http.port());
    send(s, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"); // and never read
    awaitDump(http, "dev.lifespan.http.Wire.write"); // blocked: the client reads nothing
    http.app().signal(App.Signal.TERM);
    App.Result result = http.app().await(WAIT).orElseThrow();
    assertEquals(App.Outcome.WORK_ABANDONED, result.outcome(), "a response cut at the grace's end");
    assertTrue(
        result.shutdownTime().compareTo(grace.plusSeconds(2)) < 0,
        "the write was cut when the grace ended: " + result.shutdownTime());
    assertTrue(result.stragglers().isEmpty(), result.toString());
  }

  /** Waits (bounded) until the application's task dump, with stacks, shows {@code text}. */
  private static void awaitDump(HttpApp http, String text) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!http.app().dump(true).toText().contains(text)) {
      if (System.nanoTime() - end > 0) fail(text + " not in\n" + http.app().dump(true).toText());
      java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
    }
  }

  // ---- limits

  @Test
  void aUrlOverTheLimitGets414AndTheConnectionIsClosed() throws Exception {
    int port = start(loopback().withMaxUrlBytes(1024));
    RawResponse r = sendAll(port, "GET /" + "a".repeat(1_000_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(414, r.status());
    assertEquals("request target over 1024 bytes\n", r.body());
    assertEquals("close", r.headers().get("connection"));
    RawResponse fits =
        sendAll(port, "GET /hello?" + "a".repeat(1000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(200, fits.status());
  }

  @Test
  void overTheHeaderCountOrTheHeaderSizeGets431AndTheConnectionIsClosed() throws Exception {
    int port = start(loopback());
    StringBuilder many = new StringBuilder("GET /hello HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 1000; i++) many.append("X-H: ").append(i).append("\r\n");
    RawResponse count = sendAll(port, many + "\r\n");
    assertEquals(431, count.status());
    assertEquals("over 100 request header fields\n", count.body());
    assertEquals("close", count.headers().get("connection"));

    RawResponse size =
        sendAll(
            port, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(1 << 20) + "\r\n\r\n");
    assertEquals(431, size.status());
    assertEquals("request header fields over 16384 bytes\n", size.body());
    assertEquals("close", size.headers().get("connection"));
  }

  @Test
  void aBodyAnnouncedOverTheLimitGets413AndTheConnectionIsClosedWithoutReadingIt()
      throws Exception {
    int port = start(loopback());
    Socket s = connect(port);
    send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n"); // no body sent
    RawResponse r = RawResponse.read(s.getInputStream());
    assertEquals(413, r.status());
    assertEquals("request body over 1048576 bytes\n", r.body());
    assertEquals("close", r.headers().get("connection"));
    s.shutdownOutput(); // the server lingers until the client is done sending
    assertClosed(s);
  }

  // ---- the server's own answers

  @Test
  void malformedRequestsGetTheServersOwnOneLineAnswerNeverAnHtmlPage() throws Exception {
    int port = start(loopback());
    String[][] cases = {
      {"GARBAGE\r\n\r\n", "400", "malformed request line"},
      {"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", "400", "malformed request line"},
      {"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "400", "malformed request target"},
      {"GET /a\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n", "400", "malformed request target"},
      {"GET /hello HTTP/1.1\r\n\r\n", "400", "no Host header"},
      {"GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", "505", "HTTP version 2.0 not supported"},
      {"G(T /hello HTTP/1.1\r\nHost: x\r\n\r\n", "400", "malformed method"},
      {"GET /hello HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", "400", "malformed header field"},
      {
        "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n",
        "400",
        "obsolete line folding"
      },
      {
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: x1\r\n\r\n",
        "400",
        "malformed Content-Length"
      },
      {
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n",
        "400",
        "malformed Content-Length"
      },
      {
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "400",
        "both Content-Length and Transfer-Encoding"
      },
      {
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "501",
        "transfer coding not supported: gzip"
      },
      {
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "400",
        "malformed chunk size"
      },
      { // a negative size once made the body's length negative
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        "400",
        "malformed chunk size"
      },
    };
    for (String[] c : cases) {
      RawResponse r = sendAll(port, c[0]);
      String what = c[0].lines().findFirst().orElse("") + " -> " + r;
      assertEquals(Integer.parseInt(c[1]), r.status(), what);
      assertEquals(c[2] + "\n", r.body(), what);
      assertEquals("text/plain; charset=utf-8", r.headers().get("content-type"), what);
      assertEquals("close", r.headers().get("connection"), what);
    }
  }

  @Test
  void headIsServedByTheGetRouteWithoutItsBodyAndOptionsAnswersWithAllow() throws Exception {
    int port = start(loopback());
    Socket s = connect(port);
    send(s, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    InputStream in = s.getInputStream();
    String head = headOnly(in);
    assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
    assertTrue(head.contains("Content-Length: 6\r\n"), "the length GET would have: " + head);
    RawResponse get = RawResponse.read(in); // the next response follows at once: no body was sent
    assertEquals(200, get.status());
    assertEquals("hello\n", get.body());

    RawResponse options = sendAll(port, "OPTIONS /orders/7 HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(204, options.status());
    assertEquals("POST, OPTIONS", options.headers().get("allow"));
    RawResponse star = sendAll(port, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(204, star.status());
    assertEquals("GET, HEAD, POST, OPTIONS", star.headers().get("allow"));
    RawResponse unknown = sendAll(port, "BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals(405, unknown.status());
    assertEquals("method BREW not allowed here\n", unknown.body());
    assertEquals("GET, HEAD, OPTIONS", unknown.headers().get("allow"));
    Socket h = connect(port);
    send(h, "HEAD /health/ready HTTP/1.1\r\nHost: x\r\n\r\n");
    String health = headOnly(h.getInputStream());
    assertTrue(health.startsWith("HTTP/1.1 200 OK\r\n"), health);
    assertTrue(health.contains("Content-Length: 6\r\n"), health); // "ready\n"
  }

  // ---- the listen backlog

  @Test
  void theListenBacklogIsWhatTheOptionsSay() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        java.nio.file.Files.exists(java.nio.file.Path.of("/proc/sys/net/core/somaxconn"))
            && java.nio.file.Files.isExecutable(java.nio.file.Path.of("/usr/bin/ss")),
        "Linux with ss (iproute2)");
    int port = start(loopback().withBacklog(7));
    assertEquals(7, backlog(port));
    int system = start(loopback());
    int somaxconn;
    try (InputStream in =
        java.nio.file.Files.newInputStream(java.nio.file.Path.of("/proc/sys/net/core/somaxconn"))) {
      somaxconn = Integer.parseInt(new String(in.readAllBytes(), ISO_8859_1).strip());
    }
    assertEquals(somaxconn, backlog(system), "the default: the system's maximum");
  }

  /** The backlog of the socket listening on {@code port}, as {@code ss} shows it (Linux). */
  private static int backlog(int port) throws Exception {
    Process p = new ProcessBuilder("ss", "-Hltn", "sport = :" + port).start();
    String out = new String(p.getInputStream().readAllBytes(), ISO_8859_1).strip();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    String[] cols = out.split("\\s+"); // LISTEN Recv-Q Send-Q(backlog) local peer
    return Integer.parseInt(cols[2]);
  }

  // ---- escaping

  @Test
  void aClientCannotForgeALogLineOrAResponseLine() throws Exception {
    HttpAppTest.Records records = new HttpAppTest.Records();
    LIFESPAN_LOG.addHandler(records);
    LIFESPAN_LOG.setUseParentHandlers(false); // provoked: captured, not printed
    try {
      int port = start(loopback());
      String forged = "%0Alifespan%20%5Borders%5D%20stopped:%20exit%20code%200%1B%5B2K";
      RawResponse r = sendAll(port, "GET /boom?" + forged + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(500, r.status());
      RawResponse path = sendAll(port, "GET /boom/" + forged + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(404, path.status());
      assertEquals(
          "no route for GET /boom/\\nlifespan [orders] stopped: exit code 0\\u001b[2K\n",
          path.body());
      RawResponse logged = sendAll(port, "GET /boom%0Aforged%1B HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(404, logged.status());

      // A failing request whose path carries the forgery: one record, one line.
      int boom =
          start(
              loopback(),
              Routes.create()
                  .get(
                      "/{any}",
                      r2 -> {
                        throw new IllegalStateException("boom");
                      }));
      assertEquals(500, sendAll(boom, "GET /x" + forged + " HTTP/1.1\r\nHost: x\r\n\r\n").status());
      List<LogRecord> failed = records.matching(l -> l.getMessage().startsWith("request GET /x"));
      assertEquals(1, failed.size(), records.toString());
      String message = failed.getFirst().getMessage();
      assertFalse(message.contains("\n"), message);
      assertFalse(message.contains("\u001b"), message);
      assertTrue(
          message.contains("/x\\nlifespan [orders] stopped: exit code 0\\u001b[2K"), message);
    } finally {
      LIFESPAN_LOG.removeHandler(records);
      LIFESPAN_LOG.setUseParentHandlers(true);
    }
  }

  @Test
  void aResponseHeaderWithALineBreakIsRefusedNotSent() throws Exception {
    HttpAppTest.Records records = new HttpAppTest.Records();
    LIFESPAN_LOG.addHandler(records);
    LIFESPAN_LOG.setUseParentHandlers(false); // the failure is provoked: captured, not printed
    try {
      int port = start(loopback());
      RawResponse r =
          sendAll(port, "GET /header?id=1%0D%0ASet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(500, r.status());
      assertFalse(r.headers().containsKey("set-cookie"), r.headers().toString());
      List<LogRecord> severe = records.matching(l -> l.getLevel() == Level.SEVERE);
      assertEquals(1, severe.size(), "the handler's failure is logged once");
      assertTrue(
          severe.getFirst().getThrown().getMessage().contains("header X-Id has a character"),
          String.valueOf(severe.getFirst().getThrown()));
    } finally {
      LIFESPAN_LOG.removeHandler(records);
      LIFESPAN_LOG.setUseParentHandlers(true);
    }
  }

  // ---- fixtures

  private static HttpOptions loopback() {
    return HttpOptions.defaults().withHost("127.0.0.1").withPort(0);
  }

  private int start(HttpOptions options) throws InterruptedException {
    return start(options, ROUTES);
  }

  private int start(HttpOptions options, Routes routes) throws InterruptedException {
    return start(App.Options.named("hostile").withGrace(Duration.ofSeconds(5)), options, routes)
        .port();
  }

  private HttpApp start(App.Options o, HttpOptions options, Routes routes)
      throws InterruptedException {
    HttpApp a = HttpApp.start(o, Lifespan.of(), options, routes);
    apps.add(a);
    assertTrue(a.awaitReady());
    return a;
  }

  private Socket connect(int port) throws IOException {
    Socket s = new Socket();
    sockets.add(s);
    s.connect(new InetSocketAddress(LOOPBACK, port), 5_000);
    s.setSoTimeout((int) WAIT.toMillis());
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    s.getOutputStream().write(text.getBytes(ISO_8859_1));
    s.getOutputStream().flush();
  }

  /**
   * Sends {@code request} on a new connection from another thread (the server may answer before it
   * has all of it) and reads one response.
   */
  private RawResponse sendAll(int port, String request) throws Exception {
    Socket s = connect(port);
    Thread writer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    send(s, request);
                  } catch (IOException closedEarly) {
                    // the server answered and closed before reading it all
                  }
                });
    try {
      return RawResponse.read(s.getInputStream());
    } finally {
      s.close();
      writer.join();
    }
  }

  /** The status line and headers of a response without a body (to HEAD), as text. */
  private static String headOnly(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    while (!sb.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) fail("closed in a response head: " + sb);
      sb.append((char) b);
    }
    return sb.toString();
  }

  /** Asserts that the server closes {@code s} (without waiting for the client), within WAIT. */
  private static void assertClosed(Socket s) throws IOException {
    try {
      InputStream in = s.getInputStream();
      byte[] b = new byte[8192];
      int n;
      while ((n = in.read(b)) >= 0) {
        if (n > 0 && new String(b, 0, n, ISO_8859_1).startsWith("HTTP/1.1 2")) {
          fail("answered instead of closed: " + new String(b, 0, n, ISO_8859_1));
        }
      }
    } catch (SocketException reset) {
      // closed by a reset: closed too
    }
  }

  private static void await(CountDownLatch latch) throws InterruptedException {
    if (!latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) fail("timed out waiting");
  }
}

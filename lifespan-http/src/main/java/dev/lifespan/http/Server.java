package dev.lifespan.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The server behind {@link HttpApp}: a lifespan layer that binds the listener (innermost, so every
 * other layer has started first), and the application's main body, which serves until it is
 * cancelled and then drains. Each exchange runs as a must-finish task of the {@code requests}
 * supervisor: the application's cancellation does not cut it short; the drain waits for it until
 * the grace period ends.
 */
final class Server implements HttpHandler {
  private static final System.Logger LOG = System.getLogger("dev.lifespan.http");

  private final HttpOptions options;
  private final Routes routes;

  private volatile HttpServer http;
  private volatile HttpServer admin;
  private volatile boolean started;
  private volatile App app;

  Server(HttpOptions options, Routes routes) {
    this.options = options;
    this.routes = routes;
  }

  int port() {
    HttpServer h = http;
    if (h == null) throw new IllegalStateException("the server has not bound its port (yet)");
    return h.getAddress().getPort();
  }

  int dumpPort() {
    if (options.dumpPort < 0) throw new IllegalStateException("the task dump endpoint is off");
    HttpServer a = admin;
    if (a == null) throw new IllegalStateException("the server has not bound its port (yet)");
    return a.getAddress().getPort();
  }

  /** The innermost layer: binds the listener (and the dump endpoint) after all others started. */
  Lifespan layer() {
    return Lifespan.named(
        "http listener",
        ctx -> {
          http = bind("port", options.host, options.port, options.backlog);
          try {
            if (options.dumpPort >= 0) {
              admin = bind("dump endpoint port", "127.0.0.1", options.dumpPort, 0);
            }
            ctx.proceed();
          } finally {
            if (!started) { // bound, never served: release the ports
              release(http);
              if (admin != null) release(admin);
            }
          }
        });
  }

  /**
   * A server bound to {@code host:port}, or a {@link BindException} whose message names what could
   * not be bound, in one line that needs no stack trace: {@code port 8080 is already in use}
   * ({@code what} is "port" or "dump endpoint port"), or {@code cannot bind 10.0.0.1:8080: Cannot
   * assign requested address}. The operating system's exception is its cause.
   */
  private static HttpServer bind(String what, String host, int port, int backlog)
      throws BindException {
    InetSocketAddress address = new InetSocketAddress(host, port);
    String where = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    if (address.isUnresolved()) {
      throw new BindException("cannot bind " + where + ": unknown host");
    }
    try {
      return HttpServer.create(address, backlog);
    } catch (IOException e) {
      String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      BindException named =
          new BindException(
              e instanceof BindException && reason.contains("in use")
                  ? what + " " + port + " is already in use"
                  : "cannot bind " + where + ": " + reason);
      named.initCause(e);
      throw named;
    }
  }

  /**
   * Closes a server that may never have been started. The JDK's {@code HttpServer.stop} closes the
   * listening channel, but that channel is registered with the server's selector, so its socket is
   * only released when the dispatcher thread next selects: a server that was never started would
   * keep its port bound for good. So it is started first, to be stopped at once.
   */
  private static void release(HttpServer s) {
    try {
      s.start();
    } catch (IllegalStateException alreadyStarted) {
      // serve() started it: stop below releases it
    }
    s.stop(0);
  }

  /** The main body: serves until cancelled, then drains. */
  void serve() throws Exception {
    App me = App.current().orElseThrow();
    app = me;
    Supervisor requests = Supervisor.open(me.name() + "/requests");
    var executor =
        (java.util.concurrent.Executor)
            command -> {
              try {
                requests.spawnMustFinish("http request", command::run);
              } catch (IllegalStateException refused) {
                throw new RejectedExecutionException(refused.getMessage(), refused);
              }
            };
    http.setExecutor(executor);
    http.createContext("/", this);
    if (admin != null) {
      admin.setExecutor(executor);
      admin.createContext("/", this::dump);
      admin.start();
    }
    http.start();
    started = true;
    LOG.log(
        System.Logger.Level.INFO,
        "application '"
            + me.name()
            + "' listening on http://"
            + options.host
            + ":"
            + port()
            + (admin != null ? "; task dump on http://127.0.0.1:" + dumpPort() + "/tasks" : ""));
    try {
      while (true) CancelScope.sleep(Duration.ofDays(1));
    } finally {
      CancelScope.run(CancelScope.Options.named("http drain").shielded(), s -> drain(me, requests));
    }
  }

  /**
   * Stops accepting at once, lets in-flight requests finish until the grace period ends, then
   * cancels what is left and closes every connection.
   *
   * <p>{@code HttpServer.stop} closes the listener at once and then waits for the exchanges it
   * counts, in whole seconds; but it misses some (a connection closed before its request line was
   * read keeps it waiting for its whole delay), so it runs on a thread of its own, the requests are
   * awaited here, and the stop is then interrupted, which makes it close every connection.
   */
  private void drain(App me, Supervisor requests) throws InterruptedException {
    Instant end = me.graceDeadline().orElseGet(Instant::now);
    long seconds = Math.min(Integer.MAX_VALUE - 1, (millisUntil(end) + 999) / 1000);
    Thread stopper =
        Thread.ofVirtual()
            .name(me.name() + " http listener stop")
            .start(() -> http.stop((int) seconds + 1)); // bounded even if never interrupted
    try {
      // In-flight requests, and new ones on connections still open, until none runs or the grace
      // period ends; then no new ones, and those still running are cancelled and answer 503.
      CancelScope.moveOnAt(
          end,
          s -> {
            requests.awaitIdle();
            return null;
          });
      requests.shutdown(Duration.ofMillis(millisUntil(end)));
    } finally {
      stopper.interrupt(); // stop closes every connection now
      stopper.join();
      if (admin != null) admin.stop(0);
    }
  }

  private static long millisUntil(Instant end) {
    return Math.max(0, Duration.between(Instant.now(), end).toMillis());
  }

  // ---- requests

  @Override
  public void handle(HttpExchange ex) throws IOException {
    Response r;
    try {
      r = respond(ex);
    } catch (HttpException e) {
      r = line(e.status(), e.getMessage());
    }
    Response answer = r;
    // Shielded: a request cancelled at the end of the grace period still answers (503), instead
    // of failing its write with the interrupt of the cancellation.
    CancelScope.run(CancelScope.Options.named("http response").shielded(), s -> write(ex, answer));
  }

  private Response respond(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getPath();
    if (path == null || !path.startsWith("/")) return line(400, "malformed path");
    if (path.equals("/health/live")) return health(method, true);
    if (path.equals("/health/ready")) return health(method, false);
    Routes.Route route = routes.exact(method, path);
    Map<String, String> params = Map.of();
    if (route == null) {
      Set<String> allowed = new LinkedHashSet<>();
      params = new HashMap<>();
      route = routes.find(method, Routes.segments(path), params, allowed);
      if (route == null) {
        if (allowed.isEmpty()) return line(404, "no route for " + method + " " + path);
        return line(405, "method " + method + " not allowed for " + path)
            .withHeader("Allow", Routes.allow(allowed));
      }
    }
    byte[] body = readBody(ex);
    Request req =
        new Request(
            method,
            path,
            params,
            ex.getRequestURI().getRawQuery(),
            ex.getRequestHeaders(),
            body,
            ex.getRemoteAddress());
    Duration deadline = route.deadline() != null ? route.deadline() : options.deadline;
    Handler handler = route.handler();
    try {
      Response r = CancelScope.withTimeout(deadline, s -> handler.handle(req));
      if (r == null) throw new IllegalStateException("handler returned null");
      return r;
    } catch (TimeoutException e) {
      return line(503, "deadline of " + deadline.toMillis() + " ms exceeded")
          .withHeader("Retry-After", "1");
    } catch (HttpException e) {
      return line(e.status(), e.getMessage());
    } catch (CancelledException e) {
      return line(503, "shutting down").withHeader("Connection", "close");
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      LOG.log(
          System.Logger.Level.ERROR,
          "request " + method + " " + path + " (route " + route.pattern() + ") failed",
          e);
      return line(500, "internal error");
    }
  }

  private Response health(String method, boolean live) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return line(405, "method " + method + " not allowed").withHeader("Allow", "GET, HEAD");
    }
    App.State state = app.state();
    if (live) {
      return state == App.State.STOPPED
          ? line(503, "not live (app STOPPED)")
          : line(200, "live (app " + state.name() + ")");
    }
    return state == App.State.READY ? line(200, "ready") : line(503, "not ready: " + state.name());
  }

  /** The server's own plain-text answers: one line, ending with a newline. */
  static Response line(int status, String text) {
    return Response.text(status, text + "\n");
  }

  private static final byte[] NO_BODY = new byte[0];

  /**
   * The request body, at most {@code maxBodyBytes}. A request with neither {@code Content-Length}
   * nor {@code Transfer-Encoding} has none (RFC 9112 6.3), and nothing is read or allocated for it;
   * a known length is read in one piece; a chunked body is read up to the limit. The JDK's server
   * has already refused a malformed or negative {@code Content-Length} (400) and any transfer
   * coding but chunked (501) before the handler runs, and a body that ends early fails the read.
   */
  private byte[] readBody(HttpExchange ex) throws IOException {
    var headers = ex.getRequestHeaders();
    String length = headers.getFirst("Content-Length");
    long n =
        length != null ? Long.parseLong(length) : headers.containsKey("Transfer-Encoding") ? -1 : 0;
    if (n > options.maxBodyBytes) throw tooLarge();
    if (n == 0) return NO_BODY;
    try (InputStream in = ex.getRequestBody()) {
      byte[] b = in.readNBytes(n > 0 ? (int) n : options.maxBodyBytes + 1);
      if (b.length > options.maxBodyBytes) throw tooLarge();
      return b;
    }
  }

  private HttpException tooLarge() {
    return new HttpException(413, "request body over " + options.maxBodyBytes + " bytes");
  }

  private void write(HttpExchange ex, Response r) throws IOException {
    try (ex) {
      var h = ex.getResponseHeaders();
      if (r.contentType() != null) h.set("Content-Type", r.contentType());
      r.headers().forEach(h::set);
      if (r.status() == 413 || app.state() != App.State.READY) h.set("Connection", "close");
      boolean noBody = r.body().length == 0 || ex.getRequestMethod().equals("HEAD");
      ex.sendResponseHeaders(r.status(), noBody ? -1 : r.body().length);
      if (!noBody) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(r.body());
        }
      }
    }
  }

  // ---- the dump endpoint, on loopback

  private void dump(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    boolean stacks = "stacks=true".equals(ex.getRequestURI().getQuery());
    Response r;
    if (!ex.getRequestMethod().equals("GET")) {
      r = line(405, "method not allowed").withHeader("Allow", "GET");
    } else if (path.equals("/tasks")) {
      r = Response.text(200, app.dump(stacks).toText());
    } else if (path.equals("/tasks.json")) {
      r = Response.json(200, app.dump(stacks).toJson());
    } else {
      r = line(404, "GET /tasks or /tasks.json (?stacks=true)");
    }
    write(ex, r);
  }

  List<String> describe() {
    return List.of(options.toString(), routes.toString());
  }
}

package dev.lifespan.http;

import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * The server behind {@link HttpApp}: a lifespan layer that binds the listener (innermost, so every
 * other layer has started first), and the application's main body, which serves until it is
 * cancelled and then drains. Each connection is served by a task of the {@code requests}
 * supervisor; a request read whole is <em>in flight</em>, and the drain waits for it until the
 * grace period ends, while connections with no request in flight (idle, or still receiving one) are
 * closed at once.
 */
final class Server {
  private static final System.Logger LOG = System.getLogger("dev.lifespan.http");

  private final HttpOptions options;
  private final Routes routes;

  private volatile Listener http;
  private volatile Listener admin;
  private volatile boolean started;
  private volatile App app;

  Server(HttpOptions options, Routes routes) {
    this.options = options;
    this.routes = routes;
  }

  int port() {
    Listener h = http;
    if (h == null) throw new IllegalStateException("the server has not bound its port (yet)");
    return h.port();
  }

  int dumpPort() {
    if (options.dumpPort < 0) throw new IllegalStateException("the task dump endpoint is off");
    Listener a = admin;
    if (a == null) throw new IllegalStateException("the server has not bound its port (yet)");
    return a.port();
  }

  /** The innermost layer: binds the listener (and the dump endpoint) after all others started. */
  Lifespan layer() {
    return Lifespan.named(
        "http listener",
        ctx -> {
          http =
              Listener.bind(
                  "port", options.host, options.port, options.backlog, options, this::respond);
          try {
            if (options.dumpPort >= 0) {
              admin =
                  Listener.bind(
                      "dump endpoint port", "127.0.0.1", options.dumpPort, 0, options, this::dump);
            }
            ctx.proceed();
          } finally {
            if (!started) { // bound, never served: release the ports
              http.closeAll();
              if (admin != null) admin.closeAll();
            }
          }
        });
  }

  /** The main body: serves until cancelled, then drains. */
  void serve() throws Exception {
    App me = App.current().orElseThrow();
    app = me;
    Supervisor requests = Supervisor.open(me.name() + "/requests");
    http.closeAfter(() -> me.state() != App.State.READY);
    http.start(requests, "http listener");
    if (admin != null) admin.start(requests, "dump endpoint");
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
      // A shield, because the drain must finish once begun: it runs because this task was
      // cancelled, and it waits for the requests in flight until the grace period ends, then
      // closes every connection; its own waits end at the grace period's end, not at a hook.
      CancelScope.run(CancelScope.Options.named("http drain").shielded(), s -> drain(me, requests));
    }
  }

  /**
   * Stops accepting at once and closes every connection with no request in flight (idle ones, and
   * those still receiving a request: a half-received request is not waited for); lets the requests
   * in flight finish until the grace period ends; then cancels what is left (answered 503 if it can
   * still be) and closes every connection.
   */
  private void drain(App me, Supervisor requests) throws InterruptedException {
    Instant end = me.graceDeadline().orElseGet(() -> me.clock().instant());
    try {
      http.close();
      LOG.log(
          System.Logger.Level.INFO,
          "application '"
              + me.name()
              + "': listener closed, new connections are refused; "
              + http.inFlight()
              + " request(s) in flight");
      if (admin != null) admin.closeAll();
      http.cut();
      if (!http.awaitInFlight(end)) http.cutWriting(); // the grace is over: no more waiting
      requests.shutdown(until(me, end));
    } finally {
      http.closeAll();
      if (admin != null) admin.closeAll();
    }
  }

  /** From now to {@code end} on the application's clock, at least zero. */
  private static Duration until(App me, Instant end) {
    Duration d = Duration.between(me.clock().instant(), end);
    return d.isNegative() ? Duration.ZERO : d;
  }

  // ---- requests

  private Response respond(Connection c, Wire.Head h) throws IOException, Wire.Refused {
    long headEnd = System.nanoTime();
    String method = h.method();
    String path = h.path();
    if (path.equals("*")) return options(routes.methods());
    if (path.equals("/health/live")) return health(method, true);
    if (path.equals("/health/ready")) return health(method, false);
    String lookup = method.equals("HEAD") ? "GET" : method;
    Routes.Route route = routes.exact(lookup, path);
    Map<String, String> params = Map.of();
    if (route == null) {
      Set<String> allowed = new LinkedHashSet<>();
      params = new HashMap<>();
      route = routes.find(lookup, Routes.segments(path), params, allowed);
      if (route == null) {
        if (allowed.isEmpty()) {
          return line(404, "no route for " + Text.escape(method + " " + path, 200));
        }
        if (method.equals("OPTIONS")) return options(allowed);
        return line(405, "method " + Text.escape(method, 40) + " not allowed here")
            .withHeader("Allow", Routes.allow(allowed));
      }
    }
    Duration deadline = route.deadline() != null ? route.deadline() : options.deadline;
    long end = headEnd + deadline.toNanos();
    long bodyEnd = headEnd + options.bodyTimeout.toNanos();
    Duration budget = end - bodyEnd < 0 ? deadline : options.bodyTimeout;
    byte[] body = c.body(h, options.maxBodyBytes, end - bodyEnd < 0 ? end : bodyEnd, budget);
    Handler handler = route.handler();
    try {
      Request req = new Request(method, path, params, h.rawQuery(), h.headers(), body, c.remote());
      Duration left = Duration.ofNanos(Math.max(1, end - System.nanoTime()));
      Response r = CancelScope.withTimeout(left, s -> handler.handle(req));
      if (r == null) throw new IllegalStateException("handler returned null");
      return r;
    } catch (TimeoutException e) {
      return line(503, "deadline of " + deadline.toMillis() + " ms exceeded")
          .withHeader("Retry-After", "1");
    } catch (HttpException e) {
      return line(e.status(), Text.escape(e.getMessage()));
    } catch (CancelledException e) {
      return line(503, "shutting down").withHeader("Connection", "close");
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) {
      LOG.log(
          System.Logger.Level.ERROR,
          "request "
              + Text.escape(method + " " + path, 200)
              + " (route "
              + route.pattern()
              + ") failed",
          e);
      return line(500, "internal error");
    }
  }

  /** 204 with the methods allowed: those of the routes, HEAD with GET, and OPTIONS. */
  private static Response options(Set<String> methods) {
    return Response.empty(204).withHeader("Allow", Routes.allow(methods));
  }

  private Response health(String method, boolean live) {
    if (method.equals("OPTIONS")) return options(Set.of("GET"));
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return line(405, "method " + Text.escape(method, 40) + " not allowed here")
          .withHeader("Allow", Routes.allow(Set.of("GET")));
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

  // ---- the dump endpoint, on loopback

  private Response dump(Connection c, Wire.Head h) {
    String path = h.path();
    boolean stacks = "stacks=true".equals(h.rawQuery());
    if (h.method().equals("OPTIONS")) return options(Set.of("GET"));
    if (!h.method().equals("GET") && !h.method().equals("HEAD")) {
      return line(405, "method not allowed here").withHeader("Allow", Routes.allow(Set.of("GET")));
    } else if (path.equals("/tasks")) {
      return Response.text(200, app.dump(stacks).toText());
    } else if (path.equals("/tasks.json")) {
      return Response.json(200, app.dump(stacks).toJson() + "\n");
    } else {
      return line(404, "GET /tasks or /tasks.json (?stacks=true)");
    }
  }

  List<String> describe() {
    return List.of(options.toString(), routes.toString());
  }
}

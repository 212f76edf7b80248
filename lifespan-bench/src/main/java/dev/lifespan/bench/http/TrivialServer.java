package dev.lifespan.bench.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.lifespan.App;
import dev.lifespan.CancelScope;
import dev.lifespan.Lifespan;
import dev.lifespan.Supervisor;
import dev.lifespan.http.HttpApp;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.http.Response;
import dev.lifespan.http.Routes;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The server side of {@link HttpThroughputHarness}: {@code GET /hello} answering {@code 200
 * hello\n} as {@code text/plain; charset=utf-8}, on {@code 127.0.0.1:<port>} with a listen backlog
 * of 1024, in one of two variants with the same bytes on the wire.
 *
 * <ul>
 *   <li>{@code bare}: the JDK's {@code HttpServer} with {@code
 *       Executors.newVirtualThreadPerTaskExecutor()} and one context, nothing else;
 *   <li>{@code lifespan}: {@link HttpApp#runAndExit} with one no-op layer and one route: each
 *       connection is a must-finish task of the application, each request runs under the route's
 *       deadline (the default 30 s, one timer entry per request) and is answered in a shielded
 *       scope, with the health endpoints, the client limits and timeouts, and the drain on SIGTERM.
 * </ul>
 *
 * <p>Two diagnostic variants split the cost lifespan-http had while it ran on the JDK's server
 * (until commit {@code 17857a9}): {@code task} is {@code bare} with each exchange run as a
 * must-finish task of a {@link Supervisor}; {@code scopes} is {@code bare} with the handler inside
 * the two scopes lifespan-http opens per request (a 30 s {@link CancelScope#withTimeout} around the
 * handler, a shielded {@link CancelScope#run} around the response).
 *
 * <p>Runs until it gets SIGTERM. Usage: {@code TrivialServer bare|lifespan|task|scopes <port>}.
 */
public final class TrivialServer {
  private static final String HELLO = "hello\n";

  private TrivialServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: TrivialServer bare|lifespan|task|scopes <port>");
    }
    int port = Integer.parseInt(args[1]);
    switch (args[0]) {
      case "bare" -> bare(port, Executors.newVirtualThreadPerTaskExecutor(), false);
      case "task" -> {
        Supervisor requests = Supervisor.open("requests");
        bare(port, command -> requests.spawnMustFinish("http request", command::run), false);
      }
      case "scopes" -> bare(port, Executors.newVirtualThreadPerTaskExecutor(), true);
      case "lifespan" ->
          HttpApp.runAndExit(
              App.Options.named("bench"),
              Lifespan.named("noop", ctx -> ctx.proceed()),
              HttpOptions.defaults().withHost("127.0.0.1").withPort(port).withBacklog(1024),
              Routes.create().get("/hello", req -> Response.text(200, HELLO)));
      default -> throw new IllegalArgumentException("unknown variant '" + args[0] + "'");
    }
  }

  private static void bare(int port, Executor executor, boolean scopes) throws Exception {
    byte[] body = HELLO.getBytes(StandardCharsets.UTF_8);
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
    s.setExecutor(executor);
    HttpHandler respond =
        ex -> {
          try (ex) {
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          }
        };
    HttpHandler scoped =
        ex -> {
          byte[] answer;
          try {
            answer = CancelScope.withTimeout(Duration.ofSeconds(30), sc -> body);
          } catch (TimeoutException e) {
            throw new IllegalStateException(e);
          }
          if (answer != body) throw new IllegalStateException("wrong answer");
          CancelScope.run(
              CancelScope.Options.named("response").shielded(), sc -> respond.handle(ex));
        };
    s.createContext("/hello", scopes ? scoped : respond);
    s.start();
    System.out.println("bare server on 127.0.0.1:" + port);
    while (true) LockSupport.park(); // until SIGTERM ends the JVM
  }
}

package dev.lifespan.bench.http;

import com.sun.net.httpserver.HttpServer;
import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.http.HttpApp;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.http.Response;
import dev.lifespan.http.Routes;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
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
 *       request is a must-finish task of the application, under the route's deadline (the default
 *       30 s, one timer entry per request), with the health endpoints and the drain on SIGTERM.
 * </ul>
 *
 * <p>Runs until it gets SIGTERM. Usage: {@code TrivialServer bare|lifespan <port>}.
 */
public final class TrivialServer {
  private static final String HELLO = "hello\n";

  private TrivialServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: TrivialServer bare|lifespan <port>");
    }
    int port = Integer.parseInt(args[1]);
    switch (args[0]) {
      case "bare" -> bare(port);
      case "lifespan" ->
          HttpApp.runAndExit(
              App.Options.named("bench"),
              Lifespan.named("noop", ctx -> ctx.proceed()),
              HttpOptions.defaults().withHost("127.0.0.1").withPort(port).withBacklog(1024),
              Routes.create().get("/hello", req -> Response.text(200, HELLO)));
      default -> throw new IllegalArgumentException("unknown variant '" + args[0] + "'");
    }
  }

  private static void bare(int port) throws Exception {
    byte[] body = HELLO.getBytes(StandardCharsets.UTF_8);
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 1024);
    s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    s.createContext(
        "/hello",
        ex -> {
          try (ex) {
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(body);
            }
          }
        });
    s.start();
    System.out.println("bare server on 127.0.0.1:" + port);
    while (true) LockSupport.park(); // until SIGTERM ends the JVM
  }
}

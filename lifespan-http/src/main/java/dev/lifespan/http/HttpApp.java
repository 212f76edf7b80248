package dev.lifespan.http;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import java.util.Objects;

/**
 * An {@link App} whose main body is an HTTP/1.1 server (RFC 9112) on the JDK's sockets, with a
 * virtual thread per connection and nothing but the JDK.
 *
 * {@snippet :
 * HttpApp.runAndExit(
 *     App.Options.named("orders").withDrainDelay(Duration.ofSeconds(5)),  // Kubernetes: a few s
 *     Lifespan.of(database, background),
 *     HttpOptions.defaults().withPort(8080),
 *     Routes.create().post("/orders", orders::create).get("/orders/{id}", orders::show));
 * }
 *
 * <h2>Lifecycle</h2>
 *
 * <ul>
 *   <li>The application's layers start first; the listener binds in an innermost layer (named
 *       {@code http listener}), so a startup failure means the port is never opened (exit code 3),
 *       and a port that cannot be bound is itself a startup failure of that layer: its cause is a
 *       {@link java.net.BindException} whose message names the port in one line ({@code port 8080
 *       is already in use}, {@code dump endpoint port 9090 is already in use}, {@code cannot bind
 *       10.0.0.1:8080: Cannot assign requested address}), with the operating system's exception as
 *       its own cause.
 *   <li>Every request runs in a task of the application (one per connection, {@code http
 *       connection}, in the supervisor {@code <app>/requests}): {@link dev.lifespan.LifespanLocal}s
 *       resolve and {@link dev.lifespan.Supervisor#fireAndForget} from a handler lands in the
 *       application's background supervisor (it outlives the request, not the application).
 *   <li>{@code GET /health/live} answers 200 {@code live (app DRAINING)} (the state) until the
 *       application stopped, then 503; {@code GET /health/ready} answers 200 {@code ready} only
 *       while it is {@link App.State#READY}, 503 {@code not ready: DRAINING} (the state) otherwise.
 *       Each body is one line of plain text, as are the server's error answers.
 *   <li>Shutdown, in order: readiness becomes {@code DRAINING} (ready answers 503); after the drain
 *       delay the listener closes (new connections are refused by the operating system, never
 *       half-served), and every connection with no request in flight is closed at once: idle ones,
 *       and those still sending a request (a half-received request is not waited for). Requests in
 *       flight, those read whole, are must-finish work: they finish until the grace period ends;
 *       then they are cancelled (answered 503 if they can still be); then the application's
 *       background work (must-finish first) and the layers' teardown in reverse. Responses sent
 *       while draining carry {@code Connection: close}.
 * </ul>
 *
 * <h2>Clients</h2>
 *
 * Slow or hostile clients hold neither the server nor its shutdown: a request's head and body are
 * read under timeouts, and sizes are bounded ({@link HttpOptions} lists each limit with its default
 * and its answer: 408, 413, 414, 431, each with {@code Connection: close} and the connection closed
 * at once). Malformed requests get 400 (a transfer coding other than {@code chunked} 501, an HTTP
 * version other than 1.0 and 1.1 505); every answer the server makes itself is one line of plain
 * text. {@code HEAD} is served by the {@code GET} route, with the headers of its answer and no
 * body; {@code OPTIONS} answers 204 with {@code Allow}, as {@code OPTIONS *} does for the whole
 * server. Text that a client controls (the method, the path) is escaped wherever the server logs or
 * echoes it: control characters, line separators and format characters are written as {@code \n} or
 * {@code \u001b}, so a client cannot forge a log line.
 *
 * <h2>Requests</h2>
 *
 * Each request runs inside its route's deadline (or {@link HttpOptions#withDeadline}'s), counted
 * from the end of its head, so it covers reading the body: past it, a body not yet received gets
 * 408 and the connection is closed; a handler is cancelled and the client gets 503 with a short
 * body. A handler that throws {@link HttpException} answers with its status and message; any other
 * exception gives 500 with no details in the body, and the stack trace is logged once ({@code
 * System.Logger} {@code dev.lifespan.http}, ERROR). Unknown paths get 404, known paths with another
 * method 405 (with {@code Allow}). Several servers (each its own application) can run in one JVM.
 */
public final class HttpApp {
  private final App app;
  private final Server server;

  private HttpApp(App app, Server server) {
    this.app = app;
    this.server = server;
  }

  /**
   * Starts the application in-process (see {@link App#start}); returns at once. Use {@link
   * #awaitReady()} before {@link #port()}.
   */
  public static HttpApp start(
      App.Options appOptions, Lifespan lifespan, HttpOptions options, Routes routes) {
    Server s = server(appOptions, lifespan, options, routes);
    return new HttpApp(App.start(appOptions, Lifespan.of(lifespan, s.layer()), s::serve), s);
  }

  /** Runs the application as the process (see {@link App#runAndExit}); exits the JVM. */
  public static void runAndExit(
      App.Options appOptions, Lifespan lifespan, HttpOptions options, Routes routes) {
    Server s = server(appOptions, lifespan, options, routes);
    App.runAndExit(appOptions, Lifespan.of(lifespan, s.layer()), s::serve);
  }

  private static Server server(
      App.Options appOptions, Lifespan lifespan, HttpOptions options, Routes routes) {
    Objects.requireNonNull(appOptions, "appOptions");
    Objects.requireNonNull(lifespan, "lifespan");
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(routes, "routes");
    return new Server(options, routes);
  }

  /** The application. */
  public App app() {
    return app;
  }

  /**
   * Waits until the server serves, or the application stopped without getting there.
   *
   * @return true if it serves
   * @throws InterruptedException if interrupted while waiting
   */
  public boolean awaitReady() throws InterruptedException {
    return app.awaitReady();
  }

  /**
   * The port the server listens on.
   *
   * @throws IllegalStateException if it has not bound yet
   */
  public int port() {
    return server.port();
  }

  /**
   * The loopback port of the task dump endpoint.
   *
   * @throws IllegalStateException if the endpoint is off or not bound yet
   */
  public int dumpPort() {
    return server.dumpPort();
  }

  @Override
  public String toString() {
    return "HttpApp[" + app.name() + ", " + server.describe() + "]";
  }
}

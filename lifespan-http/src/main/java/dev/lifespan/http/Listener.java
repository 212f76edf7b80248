package dev.lifespan.http;

import dev.lifespan.CancelScope;
import dev.lifespan.Supervisor;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A listening socket and its connections: accepts on a task of its own, serves each connection on a
 * task of the {@code requests} supervisor, and drains ({@link #close}, {@link #cut}, {@link
 * #awaitInFlight}, {@link #closeAll}).
 */
final class Listener {
  private static final System.Logger LOG = System.getLogger("dev.lifespan.http");

  final HttpOptions options;
  final Connection.Dispatch dispatch;
  private final ServerSocket server;
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Object drained = new Object(); // notified when inFlight drops to 0 while draining
  private BooleanSupplier closeAfter = () -> false;
  volatile boolean draining;

  private Listener(HttpOptions options, Connection.Dispatch dispatch, ServerSocket server) {
    this.options = options;
    this.dispatch = dispatch;
    this.server = server;
  }

  /**
   * A listener bound to {@code host:port}, or a {@link BindException} whose message names what
   * could not be bound, in one line that needs no stack trace: {@code port 8080 is already in use}
   * ({@code what} is "port" or "dump endpoint port"), or {@code cannot bind 10.0.0.1:8080: Cannot
   * assign requested address}. The operating system's exception is its cause.
   *
   * @param backlog 0 for the system's maximum
   */
  static Listener bind(
      String what,
      String host,
      int port,
      int backlog,
      HttpOptions options,
      Connection.Dispatch dispatch)
      throws BindException {
    InetSocketAddress address = new InetSocketAddress(host, port);
    String where = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    if (address.isUnresolved()) {
      throw new BindException("cannot bind " + where + ": unknown host");
    }
    ServerSocket s = null;
    try {
      s = new ServerSocket();
      s.setReuseAddress(true);
      // The system reduces a backlog larger than its maximum to that maximum (Linux: somaxconn);
      // 0 would mean 50 to ServerSocket.
      s.bind(address, backlog == 0 ? Integer.MAX_VALUE : backlog);
      return new Listener(options, dispatch, s);
    } catch (IOException e) {
      if (s != null) {
        try {
          s.close();
        } catch (IOException ignored) {
          // failed to bind: nothing to release
        }
      }
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

  int port() {
    return server.getLocalPort();
  }

  /** Responses carry {@code Connection: close} while {@code closeAfter} says so. */
  void closeAfter(BooleanSupplier closeAfter) {
    this.closeAfter = closeAfter;
  }

  boolean closeAfter() {
    return closeAfter.getAsBoolean();
  }

  /** Accepts connections on a task of {@code requests} until {@link #close}. */
  void start(Supervisor requests, String name) {
    requests.spawn(name + " accept", () -> accept(requests));
    requests.spawn(name + " idle timeout", this::sweep);
  }

  /**
   * Closes kept-alive connections that have waited for their next request for the idle timeout,
   * looking every quarter of it (10 ms to 1 s), until the listener closes: a connection waits
   * without a timeout of its own, since a timed read costs a timer entry per request.
   */
  private void sweep() {
    long idle = options.idleTimeout.toNanos();
    Duration period =
        Duration.ofNanos(
            Math.clamp(idle / 4, Duration.ofMillis(10).toNanos(), Duration.ofSeconds(1).toNanos()));
    while (!server.isClosed()) {
      CancelScope.sleep(period);
      long idleBefore = System.nanoTime() - idle;
      for (Connection c : connections) c.cutIfIdleSince(idleBefore);
    }
  }

  private void accept(Supervisor requests) {
    while (!server.isClosed()) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (server.isClosed()) return;
        // Out of file descriptors, say: the next accept may succeed; do not spin.
        LOG.log(System.Logger.Level.WARNING, "accept failed: " + e);
        CancelScope.sleep(Duration.ofMillis(50));
        continue;
      }
      Connection c = new Connection(this, s);
      connections.add(c);
      try {
        s.setTcpNoDelay(true);
        if (draining) throw new IllegalStateException("draining");
        // Must-finish: the application's cancellation must not reach a request in flight; the
        // drain closes connections with none at once, and waits for the others.
        requests.spawnMustFinish("http connection", c::run);
      } catch (IOException | IllegalStateException refused) {
        c.close();
        connections.remove(c);
      }
    }
  }

  void remove(Connection c) {
    connections.remove(c);
  }

  void handling() {
    inFlight.incrementAndGet();
  }

  void handled() {
    if (inFlight.decrementAndGet() == 0 && draining) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  /** Stops accepting: new connections are refused by the operating system from now on. */
  void close() {
    draining = true;
    try {
      server.close();
    } catch (IOException e) {
      // closed anyway
    }
  }

  /** Closes every connection that has no request in flight: idle ones, and half-received ones. */
  void cut() {
    draining = true;
    for (Connection c : connections) c.cut();
  }

  /**
   * Waits until no request is in flight, or until {@code end}.
   *
   * @return true if none is
   * @throws InterruptedException if interrupted while waiting
   */
  boolean awaitInFlight(Instant end) throws InterruptedException {
    draining = true;
    // A deadline on the application's clock ends the wait (its cancellation interrupts it).
    return CancelScope.moveOnAt(
            end,
            scope -> {
              synchronized (drained) {
                while (inFlight.get() > 0) drained.wait();
              }
              return true;
            })
        .orElse(false);
  }

  /** Requests read whole whose response has not been written yet. */
  int inFlight() {
    return inFlight.get();
  }

  /** Closes every connection whose response is still being written (the grace period ended). */
  void cutWriting() {
    for (Connection c : connections) c.cutWriting();
  }

  /** Closes every connection, in flight or not. */
  void closeAll() {
    close();
    for (Connection c : connections) c.close();
  }
}

package dev.lifespan.http;

import dev.lifespan.CancelScope;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * One client connection, served by one task: requests one after the other (keep-alive), each read
 * under the header and body timeouts, answered, and the connection closed after an error, on the
 * client's request, or once the server drains.
 *
 * <p>State, written by the connection's thread but for {@link #cut} ({@code IDLE -> READING ->
 * HANDLING -> WRITING -> IDLE}, and {@code IDLE | READING -> CUT} by the drain): a request is
 * <em>in flight</em> from the moment it has been read whole ({@code HANDLING}) until its response
 * is written ({@code WRITING} ends); the drain waits for those until the grace period ends, and
 * closes the others at once. When the grace period ends, responses still being written (to a client
 * that does not read) are cut too ({@link #cutWriting}).
 */
final class Connection {
  /** What answers a request; it reads the body ({@link #body}) once it knows it wants it. */
  @FunctionalInterface
  interface Dispatch {
    Response respond(Connection c, Wire.Head head) throws IOException, Wire.Refused;
  }

  private static final int IDLE = 0;
  private static final int READING = 1;
  private static final int HANDLING = 2;
  private static final int CUT = 3;
  private static final int WRITING = 4;
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Connection.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * How long, and how many bytes, a connection closed with some of its request unread (an error
   * answered early, such as 413 or 414) is read and discarded after its answer: closing a socket
   * with unread input resets it, and the reset can make the client lose the answer.
   */
  private static final Duration LINGER = Duration.ofSeconds(2);

  private static final int LINGER_BYTES = 4 << 20;

  private static final CancelScope.Options RESPONSE =
      CancelScope.Options.named("http response").shielded();

  private final Listener listener;
  private final Socket socket;
  private final long accepted = System.nanoTime();
  private volatile int state; // see the class comment
  private volatile boolean cutAtGraceEnd; // set by cutWriting
  private Wire wire; // this thread only
  private volatile long idleSince; // System.nanoTime() when it began to wait for a next request; 0
  // while it does not wait (the connection's thread writes it, the listener's sweep reads it)
  private boolean bodyRead; // the current request's body is consumed (this thread only)

  Connection(Listener listener, Socket socket) {
    this.listener = listener;
    this.socket = socket;
  }

  InetSocketAddress remote() {
    return (InetSocketAddress) socket.getRemoteSocketAddress();
  }

  /** Serves the connection until it closes; the body of its task. */
  void run() {
    HttpOptions o = listener.options;
    try (socket) {
      wire = new Wire(socket);
      long head = accepted + o.headerTimeout.toNanos(); // the first request's head, from connect
      boolean first = true;
      while (true) {
        try {
          if (first) {
            if (!wire.await(head)) return;
          } else {
            // Kept alive: an untimed read (a timed one costs a timer entry per request); the
            // listener's sweep closes the connection once it has waited the idle timeout.
            idleSince = System.nanoTime();
            boolean more = wire.awaitUntimed();
            idleSince = 0;
            if (!more) return;
          }
        } catch (SocketTimeoutException nothingCame) {
          return; // no request started: closed without an answer
        }
        if (!first) head = System.nanoTime() + o.headerTimeout.toNanos();
        if (!STATE.compareAndSet(this, IDLE, READING)) return; // cut by the drain
        Response r;
        boolean isHead = false;
        boolean http10 = false;
        boolean close;
        boolean unread = true; // some of the request may be unread: linger before closing
        try {
          Wire.Head h = read(wire, o, head);
          if (h == null) return;
          isHead = h.method().equals("HEAD");
          http10 = h.http10();
          bodyRead = h.length() == 0;
          r = listener.dispatch.respond(this, h);
          // A body not read (an error answered first) would be taken for the next request.
          close = h.close() || !bodyRead || "close".equalsIgnoreCase(r.headers().get("Connection"));
          unread = !bodyRead;
        } catch (Wire.Refused e) {
          r = Server.line(e.status, e.getMessage());
          close = true;
        }
        boolean closing = close || listener.draining || listener.closeAfter();
        Response answer = r;
        boolean noBody = isHead;
        boolean keepAlive10 = http10;
        // A shield, because the write must finish: a request cancelled at the end of the grace
        // period still answers (503), and that answer is written after the cancellation. A scope
        // without interrupts whose hook closes the socket would cut it at once; what bounds a
        // write to a client that does not read is cutWriting, when the grace period has ended.
        boolean inFlight = STATE.compareAndSet(this, HANDLING, WRITING);
        CancelScope.run(RESPONSE, s -> wire.write(answer, noBody, closing, keepAlive10));
        if (inFlight) {
          STATE.setVolatile(this, IDLE);
          listener.handled();
        } else if (!STATE.compareAndSet(this, READING, IDLE)) {
          return; // cut
        }
        if (closing && unread) wire.linger(System.nanoTime() + LINGER.toNanos(), LINGER_BYTES);
        if (closing || listener.draining) return;
        first = false;
      }
    } catch (IOException e) {
      // the client went away, or the drain closed the connection: nothing to answer
      if (cutAtGraceEnd) {
        // A response cut because the grace period ended is work abandoned. The drain shuts the
        // requests supervisor down next: this task waits for it, so that the shutdown finds it
        // still running at the end of its grace, names it abandoned, and cancels this sleep.
        CancelScope.sleep(Duration.ofDays(1));
      }
    } finally {
      int last = (int) STATE.getAndSet(this, CUT);
      if (last == HANDLING || last == WRITING) listener.handled();
      listener.remove(this);
    }
  }

  private Wire.Head read(Wire wire, HttpOptions o, long deadline) throws IOException, Wire.Refused {
    try {
      return wire.head(o, deadline);
    } catch (SocketTimeoutException e) {
      throw new Wire.Refused(
          408, "request head not received within " + o.headerTimeout.toMillis() + " ms");
    }
  }

  /**
   * The request's body, received by {@code deadline} ({@code System.nanoTime}); then the request is
   * in flight (the drain waits for it), unless the drain has cut the connection, which this throws.
   *
   * @throws Wire.Refused 413 over {@code max} bytes, 408 past the deadline, 400 for a malformed
   *     body
   */
  byte[] body(Wire.Head h, int max, long deadline, Duration budget)
      throws IOException, Wire.Refused {
    byte[] b;
    try {
      b = wire.body(h, max, deadline);
    } catch (SocketTimeoutException e) {
      throw new Wire.Refused(408, "request body not received within " + budget.toMillis() + " ms");
    }
    bodyRead = true;
    if (!STATE.compareAndSet(this, READING, HANDLING)) {
      throw new IOException("connection closed by the drain");
    }
    listener.handling();
    return b;
  }

  /**
   * Closes the connection at once if no request is in flight on it; called by the drain.
   *
   * @return true if it was closed
   */
  boolean cut() {
    int s = state;
    if ((s == IDLE || s == READING) && STATE.compareAndSet(this, s, CUT)) {
      close();
      return true;
    }
    return false;
  }

  /**
   * Closes the connection if it has waited for its next request since before {@code idleBefore}
   * ({@code System.nanoTime}); called by the listener's sweep.
   */
  void cutIfIdleSince(long idleBefore) {
    long since = idleSince;
    // Only while still waiting: once a request has begun (READING), it has its own timeouts.
    if (since != 0 && since - idleBefore <= 0 && STATE.compareAndSet(this, IDLE, CUT)) close();
  }

  /**
   * Closes the connection if its response is being written: called when the grace period has ended,
   * so that a client that does not read cannot hold the shutdown. The connection's thread sees its
   * write fail and ends the request.
   */
  void cutWriting() {
    if (state == WRITING) {
      cutAtGraceEnd = true;
      close();
    }
  }

  /** Closes the socket, whatever the state; a blocked read or write fails. */
  void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closed anyway
    }
  }
}

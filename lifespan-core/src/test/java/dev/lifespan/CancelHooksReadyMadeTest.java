package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@link CancelHooks} against real sockets, channels, an HTTP exchange and processes: cancellation
 * ends each blocking call through its hook, and the call ends with the scope's cancellation.
 */
class CancelHooksReadyMadeTest {
  private static final ThreadFactory PLATFORM = Thread.ofPlatform().name("platform-", 0).factory();
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  // ---- sockets and channels

  @Test
  void aSocketReadOnAPlatformThreadIsEndedByClosingWhenItsTaskIsCancelled() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK);
        Socket client = new Socket(LOOPBACK, server.getLocalPort());
        Socket accepted = server.accept()) { // accepts, never writes
      AtomicReference<Thread> reader = new AtomicReference<>();
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      TaskGroup.run(
          "readers",
          PLATFORM,
          g -> {
            Task<Integer> t =
                g.fork(
                    "reader",
                    () -> {
                      reader.set(Thread.currentThread());
                      try {
                        return CancelHooks.closing(client, s -> s.getInputStream().read());
                      } catch (RuntimeException e) {
                        outcome.set(e);
                        throw e;
                      }
                    });
            awaitBlockedInIo(reader);
            t.cancel();
            assertThrows(CancellationException.class, t::join);
          });
      assertFalse(reader.get().isVirtual());
      CancelledException e = assertInstanceOf(CancelledException.class, outcome.get());
      assertEndedByClose(e);
      assertTrue(client.isClosed());
    }
  }

  @Test
  void aDeadlineEndsASocketReadOnAPlatformThreadWithTimeoutException() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, LOOPBACK);
        Socket client = new Socket(LOOPBACK, server.getLocalPort());
        Socket accepted = server.accept()) {
      AtomicReference<Thread> reader = new AtomicReference<>();
      AtomicReference<CancelScope> timed = new AtomicReference<>();
      Object outcome =
          TaskGroup.call(
              "readers",
              PLATFORM,
              g -> {
                Task<Object> t =
                    g.fork(
                        () -> {
                          reader.set(Thread.currentThread());
                          try {
                            return CancelScope.withTimeout(
                                Duration.ofDays(1),
                                s -> {
                                  timed.set(s);
                                  return CancelHooks.closing(
                                      client, so -> so.getInputStream().read());
                                });
                          } catch (TimeoutException e) {
                            return e;
                          }
                        });
                awaitBlockedInIo(reader);
                timed.get().setTimeout(Duration.ZERO); // the deadline passes: TimeoutException
                return t.join();
              });
      TimeoutException e = assertInstanceOf(TimeoutException.class, outcome);
      assertEndedByClose(e);
      assertTrue(client.isClosed());
    }
  }

  @Test
  void aSocketChannelReadIsEndedByCloseNotByAnInterrupt() throws Exception {
    try (ServerSocketChannel server =
            ServerSocketChannel.open().bind(new InetSocketAddress(LOOPBACK, 0));
        SocketChannel client = SocketChannel.open(server.getLocalAddress());
        SocketChannel accepted = server.accept()) {
      AtomicReference<Thread> reader = new AtomicReference<>();
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      AtomicBoolean interrupted = new AtomicBoolean();
      TaskGroup.run(
          g -> {
            Task<Integer> t =
                g.fork(
                    () -> {
                      reader.set(Thread.currentThread());
                      try {
                        return CancelHooks.closing(client, ch -> ch.read(ByteBuffer.allocate(8)));
                      } catch (RuntimeException e) {
                        outcome.set(e);
                        interrupted.set(Thread.currentThread().isInterrupted());
                        throw e;
                      }
                    });
            awaitBlockedInIo(reader);
            t.cancel();
            assertThrows(CancellationException.class, t::join);
          });
      CancelledException e = assertInstanceOf(CancelledException.class, outcome.get());
      // closed by the hook: not ClosedByInterruptException, its subclass
      assertEquals(AsynchronousCloseException.class, e.getSuppressed()[0].getClass());
      assertFalse(client.isOpen());
      assertTrue(accepted.isOpen());
      assertTrue(interrupted.get(), "the task's scope sets the flag again when the hook's exits");
    }
  }

  // ---- HTTP

  @Test
  void cancellingTheScopeCancelsTheHttpExchangeWhileTheServerHandlerBlocks() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server = slowServer(inHandler, release);
    try (HttpClient client = HttpClient.newHttpClient()) {
      CompletableFuture<HttpResponse<String>> exchange =
          client.sendAsync(get(server, "/slow"), HttpResponse.BodyHandlers.ofString());
      CancelScope scope =
          CancelScope.run(
              CancelScope.Options.named("request"),
              s -> {
                Thread.ofVirtual().start(() -> cancelWhenReached(inHandler, s));
                CancelHooks.await(exchange);
              });
      assertTrue(scope.isCancelledCaught());
      // cancelled, or (as the client does once the exchange has begun) completed with its
      // CancellationException
      Throwable ended = assertThrows(Exception.class, exchange::get);
      if (ended instanceof ExecutionException e) ended = e.getCause();
      assertInstanceOf(CancellationException.class, ended);
    } finally {
      release.countDown();
      server.stop(0);
    }
  }

  @Test
  void aDeadlineEndsHttpSendWithTimeoutException() throws Exception {
    CountDownLatch inHandler = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server = slowServer(inHandler, release);
    try (HttpClient client = HttpClient.newHttpClient()) {
      assertThrows(
          TimeoutException.class,
          () ->
              CancelScope.withTimeout(
                  Duration.ofMillis(200),
                  s ->
                      CancelHooks.send(
                          client, get(server, "/slow"), HttpResponse.BodyHandlers.ofString())));
    } finally {
      release.countDown();
      server.stop(0);
    }
  }

  @Test
  void httpSendPassesTheResponseAndTheIoExceptionThrough() throws Exception {
    CountDownLatch none = new CountDownLatch(0);
    HttpServer server = slowServer(none, none);
    try (HttpClient client = HttpClient.newHttpClient()) {
      HttpResponse<String> r =
          CancelHooks.send(client, get(server, "/slow"), HttpResponse.BodyHandlers.ofString());
      assertEquals("done", r.body());
      int closedPort;
      try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
        closedPort = s.getLocalPort();
      }
      HttpRequest refused =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + closedPort + "/")).build();
      assertThrows(
          ConnectException.class,
          () -> CancelHooks.send(client, refused, HttpResponse.BodyHandlers.ofString()));
    } finally {
      server.stop(0);
    }
  }

  // ---- processes

  @Test
  void aDeadlineDestroysAProcessThatExitsOnSigterm() throws Exception {
    Process p = new ProcessBuilder("sleep", "60").start();
    try {
      assertThrows(
          TimeoutException.class,
          () ->
              CancelScope.withTimeout(
                  Duration.ofMillis(200), s -> CancelHooks.waitFor(p, Duration.ofSeconds(30))));
      assertFalse(p.isAlive());
      assertEquals(128 + 15, p.exitValue()); // ended by SIGTERM, within the grace
    } finally {
      p.destroyForcibly();
    }
  }

  @Test
  void aProcessIgnoringSigtermIsKilledWithItsChildrenAfterTheGrace() throws Exception {
    Process p =
        new ProcessBuilder("sh", "-c", "trap '' TERM; sleep 60 & echo ready; wait")
            .redirectErrorStream(true)
            .start();
    try {
      assertEquals("ready", firstLine(p.getInputStream()));
      List<ProcessHandle> children = p.descendants().toList();
      assertEquals(1, children.size(), "the shell's sleep");
      Duration grace = Duration.ofMillis(300);
      long start = System.nanoTime();
      CancelScope scope =
          CancelScope.run(
              s -> {
                s.setTimeout(Duration.ofMillis(50));
                CancelHooks.waitFor(p, grace);
              });
      long took = System.nanoTime() - start;
      assertTrue(scope.isCancelledCaught());
      assertEquals(128 + 9, p.exitValue()); // SIGKILL after the grace
      assertTrue(took >= grace.toNanos(), "returned after " + took + " ns, before the grace");
      children.getFirst().onExit().get(30, TimeUnit.SECONDS); // the child was killed too
    } finally {
      p.destroyForcibly();
      p.descendants().forEach(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void waitForReturnsTheExitValue() throws Exception {
    Process p = new ProcessBuilder("sh", "-c", "exit 3").start();
    assertEquals(3, CancelHooks.waitFor(p, Duration.ofSeconds(1)));
  }

  // ---- the common rules

  @Test
  void resultsAndExceptionsPassUnchangedWhenNothingIsCancelled() throws Exception {
    AtomicBoolean closed = new AtomicBoolean();
    Closeable resource = () -> closed.set(true);
    assertEquals("value", CancelHooks.closing(resource, r -> "value"));
    IOException boom = new IOException("boom");
    assertSame(
        boom,
        assertThrows(
            IOException.class,
            () ->
                CancelHooks.closing(
                    resource,
                    r -> {
                      throw boom;
                    })));
    assertFalse(closed.get());
    assertEquals("done", CancelHooks.await(CompletableFuture.completedFuture("done")));
    var e =
        assertThrows(
            ExecutionException.class,
            () -> CancelHooks.await(CompletableFuture.failedFuture(boom)));
    assertSame(boom, e.getCause());
    CompletableFuture<String> cancelledByOthers = new CompletableFuture<>();
    cancelledByOthers.cancel(false);
    assertThrows(CancellationException.class, () -> CancelHooks.await(cancelledByOthers));
  }

  @Test
  void aCallThatReturnsNormallyAfterTheHookFiredEndsWithTheCancellation() throws Exception {
    CountDownLatch inCall = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    AtomicBoolean returned = new AtomicBoolean();
    AtomicReference<CancelledException> thrown = new AtomicReference<>();
    CancelScope scope =
        CancelScope.run(
            CancelScope.Options.named("outer"),
            s -> {
              Thread.ofVirtual().start(() -> cancelWhenReached(inCall, s));
              try {
                CancelHooks.closing(
                    closed::countDown,
                    r -> {
                      inCall.countDown();
                      assertTrue(closed.await(30, TimeUnit.SECONDS));
                      returned.set(true);
                      return "read end of stream";
                    });
              } catch (CancelledException e) {
                thrown.set(e);
                throw e;
              }
            });
    assertTrue(returned.get());
    assertEquals("outer", thrown.get().scopeName());
    assertEquals(0, thrown.get().getSuppressed().length);
    assertTrue(scope.isCancelledCaught());
  }

  @Test
  void cancelDoesNotWaitForABlockingCloseButTheCallDoes() throws Exception {
    CountDownLatch inCall = new CountDownLatch(1);
    CountDownLatch closeStarted = new CountDownLatch(1);
    CountDownLatch cancelReturned = new CountDownLatch(1);
    AtomicBoolean closeFinished = new AtomicBoolean();
    AtomicBoolean finishedBeforeThrow = new AtomicBoolean();
    Closeable slowClose =
        () -> {
          closeStarted.countDown();
          try { // blocks the cancelling thread if close() runs on it: cancel() never returns
            assertTrue(cancelReturned.await(30, TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
          closeFinished.set(true);
        };
    CancelScope scope =
        CancelScope.run(
            s -> {
              Thread.ofVirtual()
                  .start(
                      () -> {
                        cancelWhenReached(inCall, s);
                        cancelReturned.countDown();
                      });
              try {
                CancelHooks.closing(
                    slowClose,
                    r -> {
                      inCall.countDown();
                      return closeStarted.await(30, TimeUnit.SECONDS);
                    });
              } finally {
                finishedBeforeThrow.set(closeFinished.get());
              }
            });
    assertTrue(scope.isCancelledCaught());
    assertTrue(finishedBeforeThrow.get(), "the call ended before close() returned");
  }

  @Test
  void aScopeCancelledBeforeTheCallMakesNoCallAndClosesNothing() throws Exception {
    AtomicBoolean called = new AtomicBoolean();
    AtomicBoolean closed = new AtomicBoolean();
    CancelScope.run(
        CancelScope.Options.named("outer"),
        s -> {
          s.cancel();
          var e =
              assertThrows(
                  CancelledException.class,
                  () ->
                      CancelHooks.closing(
                          () -> closed.set(true),
                          r -> {
                            called.set(true);
                            return null;
                          }));
          assertEquals("outer", e.scopeName());
        });
    assertFalse(called.get());
    assertFalse(closed.get());
  }

  @Test
  void aScopeCancelledBeforeAwaitCancelsTheFuture() throws Exception {
    CompletableFuture<String> work = new CompletableFuture<>();
    CancelScope scope =
        CancelScope.run(
            s -> {
              s.cancel();
              CancelHooks.await(work);
            });
    assertTrue(scope.isCancelledCaught());
    assertTrue(work.isCancelled());
  }

  @Test
  void anInterruptFromOutsideTheLibraryEndsAwaitWithoutAScopeNameAndKeepsTheFlag() {
    CompletableFuture<String> never = new CompletableFuture<>();
    Thread.currentThread().interrupt();
    try {
      var e = assertThrows(CancelledException.class, () -> CancelHooks.await(never));
      assertEquals(null, e.scopeName());
      assertTrue(Thread.currentThread().isInterrupted());
      assertFalse(never.isDone()); // not cancelled: no scope was
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void badArgumentsAreRefusedByName() {
    Closeable c = () -> {};
    ScopedCallable<Object, Object, RuntimeException> call = x -> x;
    assertEquals(
        "resource",
        assertThrows(NullPointerException.class, () -> CancelHooks.closing(null, call))
            .getMessage());
    assertEquals(
        "call",
        assertThrows(NullPointerException.class, () -> CancelHooks.closing(c, null)).getMessage());
    assertEquals(
        "statement",
        assertThrows(NullPointerException.class, () -> CancelHooks.execute(null, call))
            .getMessage());
    assertEquals(
        "future",
        assertThrows(NullPointerException.class, () -> CancelHooks.await(null)).getMessage());
    assertEquals(
        "process",
        assertThrows(NullPointerException.class, () -> CancelHooks.waitFor(null, Duration.ZERO))
            .getMessage());
    assertEquals(
        "client",
        assertThrows(
                NullPointerException.class,
                () -> CancelHooks.send(null, null, HttpResponse.BodyHandlers.discarding()))
            .getMessage());
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CancelHooks.waitFor(new ProcessBuilder("true").start(), Duration.ofSeconds(-1)));
    assertEquals("grace < 0: PT-1S", e.getMessage());
  }

  // ---- helpers

  /**
   * What a socket read that the hook's close ended left in the cancellation: the read's {@code
   * SocketException}, or nothing when the closed socket read end of stream.
   */
  private static void assertEndedByClose(Throwable cancellation) {
    Throwable[] s = cancellation.getSuppressed();
    if (s.length > 0) assertInstanceOf(SocketException.class, s[0]);
    assertTrue(s.length <= 1, List.of(s).toString());
  }

  /**
   * Waits until the thread in {@code ref} is blocked in a socket or channel operation: a frame of
   * the socket's or channel's implementation under one that parks or reads natively. The socket
   * frame matters: a thread that loads a class reads the class file natively too ({@code
   * FileDispatcherImpl.read0}), and a cancellation sent then would come before the call.
   */
  private static void awaitBlockedInIo(AtomicReference<Thread> ref) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() - end < 0) {
      Thread t = ref.get();
      if (t != null) {
        boolean blocked = false;
        for (StackTraceElement f : t.getStackTrace()) {
          String c = f.getClassName();
          if (c.startsWith("sun.nio.ch.")
              && (f.getMethodName().equals("park") || f.getMethodName().equals("read0"))) {
            blocked = true; // a virtual thread parks; a platform thread blocks in the native read
          }
          if (blocked
              && (c.equals("sun.nio.ch.NioSocketImpl")
                  || c.equals("sun.nio.ch.SocketChannelImpl"))) {
            return;
          }
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // polls the stack, orders nothing
    }
    throw new AssertionError("thread did not block in I/O: " + ref.get());
  }

  private static void cancelWhenReached(CountDownLatch reached, CancelScope s) {
    try {
      if (!reached.await(30, TimeUnit.SECONDS)) throw new AssertionError("not reached");
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    s.cancel();
  }

  /** A server whose handler, once entered, waits for {@code release}, then answers "done". */
  private static HttpServer slowServer(CountDownLatch entered, CountDownLatch release)
      throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/slow",
        ex -> {
          entered.countDown();
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] body = "done".getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(200, body.length);
          try (var out = ex.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    return server;
  }

  private static HttpRequest get(HttpServer server, String path) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path))
        .build();
  }

  private static String firstLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c; (c = in.read()) != -1 && c != '\n'; ) b.append((char) c);
    return b.toString();
  }
}

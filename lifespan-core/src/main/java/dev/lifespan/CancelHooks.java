package dev.lifespan;

import java.io.Closeable;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Ready-made {@linkplain CancelScope#onCancel cancellation hooks} for blocking calls that an
 * interrupt does not end, or that an interrupt breaks: a running JDBC statement, a socket read on a
 * platform thread, an {@link HttpClient} exchange, a child process, a {@link Future}.
 *
 * {@snippet :
 * try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
 *     int n = CancelScope.withTimeout(Duration.ofSeconds(2), s ->
 *         CancelHooks.execute(st, q -> {
 *             try (ResultSet rs = q.executeQuery("select count(*) from orders")) {
 *                 rs.next();
 *                 return rs.getInt(1);
 *             }
 *         }));   // after two seconds: Statement.cancel(), then TimeoutException
 * }
 * }
 *
 * <p>Each method runs its call inside a nested scope opened {@linkplain
 * CancelScope.Options#withoutInterrupts() without interrupts}, so no interrupt reaches code that an
 * interrupt would break (an embedded database's file I/O, a {@code FileChannel}, a JDBC driver's
 * socket on a virtual thread, which an interrupt closes), and registers on that scope a hook that
 * ends the call another way: {@link Statement#cancel()}, {@link Closeable#close()}, {@link
 * Future#cancel(boolean) Future.cancel(true)}, {@link Process#destroy()}.
 *
 * <h2>Cancellation</h2>
 *
 * When cancellation reaches the calling thread's scope while the call runs (by {@link
 * CancelScope#cancel()}, a deadline, or the cancellation of an outer scope or task group, whatever
 * thread the call runs on, virtual or platform), the hook runs once. Whatever the call then does —
 * throw the driver's {@code SQLException}, a {@code SocketException}, or even return normally (a
 * closed socket may read end of stream) — its outcome is replaced by the scope's cancellation: the
 * method throws the {@link CancelledException} that {@link CancelScope#checkpoint()} throws, naming
 * the cancelled scope, with the call's exception, and the hook's own exception if it threw, added
 * as {@linkplain Throwable#getSuppressed() suppressed}. The cancelled scope therefore absorbs it
 * like any cancellation, and a {@link CancelScope#withTimeout withTimeout} scope turns it into its
 * {@link java.util.concurrent.TimeoutException}, with the call's exception suppressed in it: a
 * deadline reads as a timeout, not as an {@code SQLException}. The same happens when cancellation
 * arrives after the call ended but before the method returned.
 *
 * <p>When the method returns or throws, the hook has finished: a cancelled statement's {@code
 * cancel()} has returned before the connection is used again. A {@code cancel()} or {@code close()}
 * that blocks therefore holds the calling thread as long; JDBC drivers bound theirs (PostgreSQL's
 * {@code cancelSignalTimeout}, 10 s by default).
 *
 * <p>A cancellation that reached the scope before the call is thrown at once, as by a checkpoint.
 * {@link #execute} and {@link #closing} then make no call and leave the statement or resource
 * untouched, and {@link #send} starts no exchange; {@link #await} and {@link #waitFor}, whose work
 * already runs, cancel the future or destroy the process first.
 *
 * <h2>Exception handling</h2>
 *
 * When no hook fired, the call's result and exceptions come out unchanged. Null arguments throw
 * {@link NullPointerException} naming the parameter.
 *
 * <h2>Threads</h2>
 *
 * Any thread may call these methods, inside a scope or not (outside every scope nothing cancels
 * them). {@link #execute} and {@link #closing} run the driver's {@code cancel()} or the resource's
 * {@code close()} on a new virtual thread started by the hook, because drivers do network I/O in
 * {@code cancel()} (PostgreSQL's opens a connection to send the cancel request) and a {@code
 * close()} may wait for a lock: the cancelling thread, often the library's shared timer thread,
 * never waits for them. The other hooks ({@code Future.cancel(true)}, waking {@link #waitFor}) run
 * on the cancelling thread.
 *
 * <h2>Memory consistency effects</h2>
 *
 * Actions of the hook happen-before the method throws the cancellation.
 */
public final class CancelHooks {
  private CancelHooks() {}

  /**
   * Runs {@code call} with {@code statement}; when cancellation reaches the calling thread's scope
   * meanwhile, {@link Statement#cancel()} runs (on a virtual thread started by the cancelling
   * thread), and the call's outcome is replaced by the cancellation.
   *
   * <p>The driver's reaction to {@code cancel()} — PostgreSQL's and H2's {@code SQLException} with
   * SQLState {@code 57014} — ends up suppressed in the {@link CancelledException}, or in the {@link
   * java.util.concurrent.TimeoutException} of a {@link CancelScope#withTimeout withTimeout} scope.
   * The connection stays usable: a cancelled statement is the driver's ordinary path, unlike an
   * interrupt, which closes a virtual thread's socket and leaves the server running the query.
   *
   * <p><b>A race that the driver decides.</b> A cancellation that lands after this method's entry
   * check but before the driver has sent the statement to the server calls {@code cancel()} while
   * nothing runs; a driver whose {@code cancel()} then does nothing (PostgreSQL's) lets the
   * statement run to its end, and only then does this method throw the cancellation. Where that
   * matters, bound the statement on the server as well: {@code statement.setQueryTimeout} with what
   * remains of {@link CancelScope#currentDeadline()}, rounded up to whole seconds.
   *
   * @param <S> the statement's type
   * @param <T> the call's result
   * @param <X> what the call may throw
   * @param statement the statement the call runs; {@code cancel()} may be called on it once
   * @param call what to run with it
   * @return the call's result
   * @throws X what the call threw, unchanged, when no cancellation reached the scope
   * @throws CancelledException when cancellation reached the calling thread's scope before or
   *     during the call
   * @throws NullPointerException if {@code statement} or {@code call} is null
   */
  public static <S extends Statement, T, X extends Throwable> T execute(
      S statement, ScopedCallable<? super S, ? extends T, X> call) throws X {
    Objects.requireNonNull(statement, "statement");
    Objects.requireNonNull(call, "call");
    return guard("CancelHooks.execute", statement, statement::cancel, true, false, call);
  }

  /**
   * Runs {@code call} with {@code resource}; when cancellation reaches the calling thread's scope
   * meanwhile, {@link Closeable#close()} runs (on a virtual thread started by the cancelling
   * thread), which ends a blocking read, write, accept or connect on it on any thread, and the
   * call's outcome is replaced by the cancellation. For a {@link java.net.Socket}, {@link
   * java.net.ServerSocket}, {@link java.nio.channels.SocketChannel}, or any channel or stream whose
   * {@code close()} ends the calls blocked on it.
   *
   * <p>A platform thread blocked in a socket read ignores interrupts, and an interrupt closes a
   * {@code java.nio} channel for all its users (and, on a virtual thread, a socket): closing is how
   * such a call is cancelled, and the resource is closed afterwards anyway. A cancelled call leaves
   * the resource closed; the caller still closes it as usual (closing twice does nothing).
   *
   * @param <R> the resource's type
   * @param <T> the call's result
   * @param <X> what the call may throw
   * @param resource the resource the call uses; closed when cancellation reaches the scope
   * @param call what to run with it
   * @return the call's result
   * @throws X what the call threw, unchanged, when no cancellation reached the scope
   * @throws CancelledException when cancellation reached the calling thread's scope before or
   *     during the call
   * @throws NullPointerException if {@code resource} or {@code call} is null
   */
  public static <R extends Closeable, T, X extends Throwable> T closing(
      R resource, ScopedCallable<? super R, ? extends T, X> call) throws X {
    Objects.requireNonNull(resource, "resource");
    Objects.requireNonNull(call, "call");
    return guard(
        "CancelHooks.closing " + resource.getClass().getName(),
        resource,
        resource::close,
        true,
        false,
        call);
  }

  /**
   * Waits for {@code future} and returns its result; when cancellation reaches the calling thread's
   * scope meanwhile, {@code future.cancel(true)} runs on the cancelling thread, and the method
   * throws the cancellation.
   *
   * <p>The wait is not ended by an interrupt that the library delivers (it runs without
   * interrupts); an interrupt from elsewhere ends it with a {@link CancelledException} whose {@link
   * CancelledException#scopeName() scopeName()} is null, the thread's interrupt flag kept, the
   * future left running. If cancellation reached the scope before the call, the future is cancelled
   * and the cancellation thrown at once.
   *
   * @param <T> the future's result
   * @param future the future to wait for
   * @return its result
   * @throws ExecutionException if the future completed exceptionally and no cancellation reached
   *     the scope, unchanged
   * @throws java.util.concurrent.CancellationException if the future was cancelled by someone else
   * @throws CancelledException when cancellation reached the calling thread's scope
   * @throws NullPointerException if {@code future} is null
   */
  public static <T> T await(Future<T> future) throws ExecutionException {
    Objects.requireNonNull(future, "future");
    return awaitNamed("CancelHooks.await", future);
  }

  /**
   * Sends {@code request} with {@code client} and waits for the response, like {@link
   * HttpClient#send}; when cancellation reaches the calling thread's scope meanwhile, the future of
   * the exchange ({@link HttpClient#sendAsync}) is cancelled with {@code cancel(true)}, which ends
   * the exchange, and the method throws the cancellation.
   *
   * @param <T> the response body's type
   * @param client the client that sends
   * @param request the request
   * @param handler the response body's handler
   * @return the response
   * @throws IOException the exchange's {@code IOException}, unchanged; another checked exception of
   *     the exchange wrapped in an {@code IOException}
   * @throws IllegalArgumentException as {@link HttpClient#send} does; other unchecked exceptions of
   *     the exchange unchanged
   * @throws CancelledException when cancellation reached the calling thread's scope before or
   *     during the exchange; or when a thread was interrupted from outside the library while it
   *     waited, as {@link #await} describes
   * @throws NullPointerException if an argument is null
   */
  public static <T> HttpResponse<T> send(
      HttpClient client, HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(handler, "handler");
    CancelScope.checkpoint(); // no exchange starts in a cancelled scope
    CompletableFuture<HttpResponse<T>> exchange = client.sendAsync(request, handler);
    try {
      return awaitNamed("CancelHooks.send " + request.method() + " " + request.uri(), exchange);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) throw io;
      if (cause instanceof RuntimeException r) throw r;
      if (cause instanceof Error err) throw err;
      throw new IOException(String.valueOf(cause), cause);
    }
  }

  /**
   * Waits for {@code process} to exit and returns its exit value; when cancellation reaches the
   * calling thread's scope meanwhile, destroys the process and its descendants: {@link
   * Process#destroy()} (SIGTERM on POSIX systems), up to {@code grace} waiting for the process to
   * exit, then {@link Process#destroyForcibly()} of what is still alive and a wait for the process
   * to exit; then throws the cancellation.
   *
   * <p>The hook only wakes the waiting thread: the destruction and the grace run on the calling
   * thread, which the method thus occupies for up to {@code grace} after the cancellation. If
   * cancellation reached the scope before the call, the process is destroyed so, and the
   * cancellation thrown. The waits do not end on an interrupt (the thread's interrupt flag is
   * kept).
   *
   * @param process the process to wait for
   * @param grace how long the process may take to exit after {@code destroy()}; zero destroys it
   *     forcibly at once
   * @return the process's exit value
   * @throws CancelledException when cancellation reached the calling thread's scope
   * @throws NullPointerException if {@code process} or {@code grace} is null
   * @throws IllegalArgumentException if {@code grace} is negative
   */
  public static int waitFor(Process process, Duration grace) {
    Objects.requireNonNull(process, "process");
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) throw new IllegalArgumentException("grace < 0: " + grace);
    CompletableFuture<Void> cancelled = new CompletableFuture<>();
    return guard(
        "CancelHooks.waitFor " + describe(process),
        process,
        () -> cancelled.complete(null),
        false,
        true,
        p -> {
          CompletableFuture.anyOf(p.onExit(), cancelled).join();
          if (cancelled.isDone()) terminate(p, grace);
          return p.exitValue();
        });
  }

  // ---- implementation

  private static <T> T awaitNamed(String name, Future<T> future) throws ExecutionException {
    return guard(
        name,
        future,
        () -> future.cancel(true),
        false,
        true,
        f -> {
          try {
            return f.get();
          } catch (InterruptedException e) {
            CancelScope.checkpoint(); // a cancellation delivered before entry: replaced anyway
            Thread.currentThread().interrupt();
            throw new CancelledException(
                "Thread '" + Thread.currentThread().getName() + "' was interrupted in " + name);
          }
        });
  }

  /**
   * Runs {@code call} on {@code target} in a nested scope without interrupts, named {@code name},
   * whose cancellation hook runs {@code action} (on the cancelling thread if {@code inline}, else
   * on a new virtual thread). If {@code checkFirst}, a cancellation already visible is thrown
   * before anything runs; otherwise the hook runs at once and the call is made. If the hook fired,
   * waits for the action to finish and throws the scope's cancellation with the call's and the
   * action's exceptions suppressed; otherwise returns or throws what the call did.
   */
  private static <R, T, X extends Throwable> T guard(
      String name,
      R target,
      CheckedRunnable action,
      boolean checkFirst,
      boolean inline,
      ScopedCallable<? super R, ? extends T, X> call)
      throws X {
    return CancelScope.call(
        CancelScope.Options.named(name).withoutInterrupts(),
        scope -> {
          if (checkFirst) CancelScope.checkpoint();
          Hook hook = new Hook(name, action, inline);
          T result = null;
          Throwable thrown = null;
          CancelScope.Registration r = scope.onCancel(hook);
          try {
            result = call.call(target);
          } catch (Throwable t) {
            thrown = t;
          } finally {
            r.close();
          }
          if (r.fired()) {
            hook.done.join(); // no interrupt to end it: the action is short or has its own bound
            try {
              CancelScope.checkpoint();
            } catch (CancelledException c) {
              if (thrown != null) c.addSuppressed(thrown);
              if (hook.failure != null) c.addSuppressed(hook.failure);
              throw c;
            }
          }
          if (thrown != null) throw sneaky(thrown);
          return result;
        });
  }

  /** A hook's action, run inline or on a virtual thread; {@link #done} when it has finished. */
  private static final class Hook implements Runnable {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private final String name;
    private final CheckedRunnable action;
    private final boolean inline;
    volatile Throwable failure;

    Hook(String name, CheckedRunnable action, boolean inline) {
      this.name = name;
      this.action = action;
      this.inline = inline;
    }

    @Override
    public void run() {
      if (inline) runAction();
      else Thread.ofVirtual().name("lifespan-cancel " + name).start(this::runAction);
    }

    private void runAction() {
      try {
        action.run();
      } catch (Throwable t) {
        failure = t;
      } finally {
        done.complete(null);
      }
    }
  }

  /** SIGTERM to the process and its descendants; after {@code grace}, SIGKILL to what is left. */
  private static void terminate(Process p, Duration grace) {
    List<ProcessHandle> tree = descendants(p);
    if (!grace.isZero()) {
      p.destroy();
      for (ProcessHandle h : tree) h.destroy();
      waitForExit(p, grace);
    }
    if (p.isAlive() || tree.stream().anyMatch(ProcessHandle::isAlive)) {
      tree = concat(tree, descendants(p)); // children started during the grace
      p.destroyForcibly();
      for (ProcessHandle h : tree) h.destroyForcibly();
    }
    p.onExit().join();
  }

  private static List<ProcessHandle> descendants(Process p) {
    try {
      return p.descendants().toList();
    } catch (UnsupportedOperationException e) {
      return List.of();
    }
  }

  private static List<ProcessHandle> concat(List<ProcessHandle> a, List<ProcessHandle> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).distinct().toList();
  }

  private static void waitForExit(Process p, Duration grace) {
    long nanos = grace.compareTo(Duration.ofDays(365)) > 0 ? Long.MAX_VALUE : grace.toNanos();
    p.onExit().thenApply(x -> true).completeOnTimeout(false, nanos, TimeUnit.NANOSECONDS).join();
  }

  private static String describe(Process p) {
    try {
      return "pid " + p.pid();
    } catch (UnsupportedOperationException e) {
      return p.toString();
    }
  }

  @SuppressWarnings("unchecked")
  private static <X extends Throwable> RuntimeException sneaky(Throwable t) throws X {
    throw (X) t;
  }
}

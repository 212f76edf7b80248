package dev.lifespan.http;

/**
 * Handles one request of a route. Runs as a task of the application, on a virtual thread, inside
 * the route's deadline: {@link dev.lifespan.LifespanLocal}s resolve and {@link
 * dev.lifespan.Supervisor#fireAndForget} lands in the application's background supervisor.
 *
 * <p>Cancellation: past the route's deadline the handler is cancelled (its thread is interrupted
 * and the library's checkpoints throw {@link dev.lifespan.CancelledException}) and the client gets
 * 503. A shutdown does not cut a running handler short: it may run until the application's grace
 * period ends, and is then cancelled the same way (503 if the answer can still be sent). Handlers
 * are called concurrently, one virtual thread per request.
 */
@FunctionalInterface
public interface Handler {
  /**
   * Answers {@code request}.
   *
   * @throws HttpException for an answer with that status and a short message
   * @throws Exception any other failure: the client gets 500 with no details, and the failure is
   *     logged once with its stack trace
   */
  Response handle(Request request) throws Exception;
}

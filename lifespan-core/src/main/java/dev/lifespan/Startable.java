package dev.lifespan;

/**
 * The body of a task started with {@link TaskGroup#start}: it reports through {@link Started} when
 * it is ready (a server once it is bound, say), and usually keeps running afterwards.
 *
 * @param <V> the value it reports when started
 */
@FunctionalInterface
public interface Startable<V> {
  /** Runs the task; calls {@code started.started(value)} exactly once, when ready. */
  void run(Started<V> started) throws Exception;
}

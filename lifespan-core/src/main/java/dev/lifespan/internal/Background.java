package dev.lifespan.internal;

import dev.lifespan.CheckedRunnable;
import dev.lifespan.Supervisor;
import dev.lifespan.Task;
import java.time.Duration;
import java.util.Objects;

/**
 * Where fire-and-forget work goes: the background supervisor of the calling thread's application
 * ({@link AppContext}), otherwise one process-wide supervisor, opened on first use outside any
 * scope and drained when the JVM shuts down.
 */
public final class Background {
  /** System property: how long the JVM's shutdown waits for process-wide background tasks. */
  public static final String GRACE_PROPERTY = "lifespan.background.grace";

  private static final Duration DEFAULT_GRACE = Duration.ofSeconds(10);
  private static final System.Logger LOG = System.getLogger("dev.lifespan");

  private static SupervisorImpl processWide; // guarded by Background.class

  private Background() {}

  /** Supervisor.fireAndForget. */
  public static Task<Void> fireAndForget(String name, CheckedRunnable body) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(body, "body");
    return current().spawn(name, body);
  }

  /** Supervisor.background: the calling thread's application's, or the process-wide one. */
  public static Supervisor current() {
    AppContext app = AppContext.current();
    if (app == null) return processWide();
    Supervisor s = app.background;
    if (s == null) {
      throw new IllegalStateException(
          "Application '" + app.name() + "' has no background supervisor");
    }
    return s;
  }

  /** The process-wide background supervisor, opened (with its JVM shutdown hook) on first use. */
  public static synchronized Supervisor processWide() {
    if (processWide == null) {
      Duration grace = grace();
      processWide = SupervisorImpl.openRoot("lifespan-background", grace);
      SupervisorImpl sup = processWide;
      Thread hook =
          Thread.ofPlatform().name("lifespan-background-drain").unstarted(() -> drain(sup, grace));
      Runtime.getRuntime().addShutdownHook(hook);
    }
    return processWide;
  }

  /**
   * At JVM shutdown: lets running background tasks finish within the grace, then cancels them.
   * Writes to {@code System.err}, not the log: logging frameworks shut down in their own hooks.
   */
  private static void drain(SupervisorImpl sup, Duration grace) {
    if (!sup.children.awaitEmpty(sup.timer, sup.timer.after(grace), sup)) {
      System.err.println(
          "lifespan: JVM shutdown: background tasks still running after "
              + grace
              + "; cancelling them");
    }
    var report = sup.shutdown(Duration.ZERO);
    if (!report.clean()) System.err.println("lifespan: " + report);
  }

  private static Duration grace() {
    String value = System.getProperty(GRACE_PROPERTY);
    if (value == null) return DEFAULT_GRACE;
    try {
      Duration d = Duration.parse(value);
      if (!d.isNegative()) return d;
    } catch (RuntimeException e) {
      // reported below
    }
    LOG.log(
        System.Logger.Level.WARNING,
        GRACE_PROPERTY
            + " is not a non-negative ISO-8601 duration: '"
            + value
            + "'; using "
            + DEFAULT_GRACE);
    return DEFAULT_GRACE;
  }
}

package dev.lifespan.spring;

import dev.lifespan.Supervisor;
import java.util.List;
import java.util.function.Supplier;
import org.springframework.context.SmartLifecycle;

/**
 * The two {@link SmartLifecycle} beans that put the Lifespan application's shutdown into Spring's
 * stop order; see {@link LifespanApplication}. Neither restarts: once stopped, the application has
 * ended.
 */
final class ShutdownPhases {
  private ShutdownPhases() {}

  /**
   * Phase {@link LifespanApplication#DRAIN_PHASE}: requests the shutdown and publishes
   * REFUSING_TRAFFIC at once, on the closing thread, then reports itself stopped when the drain
   * delay has passed, so that Spring's next phase, the web server's graceful shutdown, waits for it
   * while beans of the same phase stop alongside.
   */
  static final class Drain implements SmartLifecycle {
    private final LifespanApplication application;
    private volatile boolean running;

    Drain(LifespanApplication application) {
      this.application = application;
    }

    @Override
    public void start() {
      running = true;
    }

    @Override
    public void stop() {
      application.beginShutdown();
      try {
        application.awaitDrained();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      running = false;
    }

    @Override
    public void stop(Runnable callback) {
      application.beginShutdown();
      Thread.ofVirtual()
          .name("drain of '" + application.name() + "'")
          .start(
              () -> {
                try {
                  application.awaitDrained();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } finally {
                  running = false;
                  callback.run();
                }
              });
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    @Override
    public int getPhase() {
      return LifespanApplication.DRAIN_PHASE;
    }

    // SmartLifecycle.isPauseable() from Spring Framework 7 on (no @Override: 6.2 lacks it): a
    // pause of the context must not stop the application, which cannot start again
    public boolean isPauseable() {
      return false;
    }

    @Override
    public String toString() {
      return "Lifespan drain of '" + application.name() + "'";
    }
  }

  /**
   * Phase {@link LifespanApplication#SUPERVISORS_PHASE}: the context's {@link Supervisor} beans,
   * then the application's supervisors and layers, within the rest of the grace period.
   */
  static final class Supervisors implements SmartLifecycle {
    private final LifespanApplication application;
    private final Supplier<List<Supervisor>> others;
    private volatile boolean running;

    Supervisors(LifespanApplication application, Supplier<List<Supervisor>> others) {
      this.application = application;
      this.others = others;
    }

    @Override
    public void start() {
      running = true;
    }

    @Override
    public void stop() {
      try {
        application.stopSupervisors(others.get());
      } finally {
        running = false;
      }
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    @Override
    public int getPhase() {
      return LifespanApplication.SUPERVISORS_PHASE;
    }

    // SmartLifecycle.isPauseable() from Spring Framework 7 on (no @Override: 6.2 lacks it): a
    // pause of the context must not stop the application, which cannot start again
    public boolean isPauseable() {
      return false;
    }

    @Override
    public String toString() {
      return "Lifespan supervisors of '" + application.name() + "'";
    }
  }
}

package dev.lifespan.bench.exit;

import java.util.concurrent.CountDownLatch;

/**
 * Baseline child of {@link ExitTimeHarness}: the smallest program that does by hand what {@link
 * dev.lifespan.App#runAndExit} does around an application, without the library. It installs a
 * SIGTERM handler through {@code sun.misc.Signal} that wakes the main thread, which then calls
 * {@code System.exit(143)}.
 */
public final class SignalIdle {
  private SignalIdle() {}

  /** Installs the handler, prints {@code ready}, waits for SIGTERM and exits with 143. */
  public static void main(String[] args) throws InterruptedException {
    CountDownLatch term = new CountDownLatch(1);
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> term.countDown());
    System.err.println("ready");
    term.await();
    System.exit(143);
  }
}

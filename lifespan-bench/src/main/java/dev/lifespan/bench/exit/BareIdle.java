package dev.lifespan.bench.exit;

import java.util.concurrent.locks.LockSupport;

/**
 * Baseline child of {@link ExitTimeHarness}: no library and nothing installed. It prints {@code
 * ready} to {@code System.err} and parks its main thread for good; SIGTERM takes the JVM's own path
 * (its shutdown hooks, then exit with 143).
 */
public final class BareIdle {
  private BareIdle() {}

  /** Prints {@code ready} and parks until the JVM exits. */
  public static void main(String[] args) {
    System.err.println("ready");
    while (true) LockSupport.park();
  }
}

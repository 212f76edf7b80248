package dev.lifespan.bench.exit;

import java.util.concurrent.locks.LockSupport;

/**
 * Baseline child of {@link ExitTimeHarness}: {@link BareIdle} with one JVM shutdown hook that does
 * nothing, so SIGTERM also starts (and joins) a hook thread on its way out.
 */
public final class HookIdle {
  private HookIdle() {}

  /** Adds an empty shutdown hook, prints {@code ready} and parks until the JVM exits. */
  public static void main(String[] args) {
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {}));
    System.err.println("ready");
    while (true) LockSupport.park();
  }
}

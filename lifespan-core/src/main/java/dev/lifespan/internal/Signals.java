package dev.lifespan.internal;

import dev.lifespan.App;

/**
 * SIGINT and SIGTERM for {@link AppRunner#runAndExit}: handlers through {@code sun.misc.Signal},
 * kept until the process exits, and a JVM shutdown hook for an exit the application did not start
 * (a signal the JVM kept for itself, or {@code System.exit} called elsewhere), in which case the
 * hook waits for the application before the JVM goes on exiting.
 *
 * <p>The handlers are not restored before {@code System.exit}: the JVM's own handlers, restored,
 * would begin the JVM's exit on a signal that arrives meanwhile, with 128 + the signal's number as
 * the status, and that exit, begun first, would win over the application's exit code (regression:
 * under a stream of SIGTERMs a FAILED application exited with 143 instead of 1). Ours ignore a
 * signal once the application has ended.
 */
final class Signals {
  private final AppRunner runner;
  private final Thread hook;
  private volatile boolean hookRan;

  private Signals(AppRunner runner) {
    this.runner = runner;
    this.hook =
        Thread.ofPlatform()
            .name("app '" + runner.name() + "' JVM exit")
            .unstarted(
                () -> {
                  hookRan = true;
                  stopForJvmExit(runner);
                });
  }

  /**
   * Runs {@code runner} as the process: installs the handlers, starts it (the runner prints a
   * failure other than a startup failure, which was printed in one line already, with its stack
   * trace just before its last line), waits for its result, removes the hook and exits with the
   * exit code unless the JVM is already exiting. An interrupt of the calling thread is taken as a
   * SIGTERM.
   */
  static void runAndExit(AppRunner runner) {
    Signals signals = install(runner);
    runner.printsFailure = true;
    runner.start();
    App.Result r;
    boolean interrupted = false;
    while (true) {
      try {
        r = runner.await(null).orElseThrow();
        break;
      } catch (InterruptedException e) {
        if (!interrupted) runner.signal(false);
        interrupted = true;
      }
    }
    boolean jvmExiting = signals.removeHook();
    if (interrupted) Thread.currentThread().interrupt();
    if (!jvmExiting) System.exit(r.exitCode());
  }

  static Signals install(AppRunner runner) {
    Signals s = new Signals(runner);
    s.handle("INT", true);
    s.handle("TERM", false);
    Runtime.getRuntime().addShutdownHook(s.hook);
    return s;
  }

  private void handle(String name, boolean interrupt) {
    sun.misc.Signal sig = new sun.misc.Signal(name);
    sun.misc.SignalHandler before;
    try {
      before = sun.misc.Signal.handle(sig, x -> runner.signal(interrupt));
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      runner.print(
          "cannot handle SIG"
              + name
              + " ("
              + e.getMessage()
              + "); the JVM's shutdown will stop the application instead");
      return;
    }
    if (before == sun.misc.SignalHandler.SIG_IGN) {
      // The JVM leaves a signal the process inherited as ignored alone: ours is not installed.
      runner.print(
          "SIG"
              + name
              + " is ignored by this process (inherited from its parent, as for a background job"
              + " of a non-interactive shell); it will not stop the application");
    }
  }

  /**
   * Removes the hook; the handlers stay (see the class comment). Returns true if the JVM is already
   * exiting, in which case the caller must not call {@code System.exit}.
   */
  boolean removeHook() {
    if (hookRan) return true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      return true; // the JVM began shutting down meanwhile
    }
    return false;
  }

  /** For the JVM shutdown hook: requests a shutdown and waits until the runner is done. */
  private static void stopForJvmExit(AppRunner runner) {
    runner.requestStopForJvmExit();
    boolean interrupted = false;
    while (!runner.ended()) {
      try {
        runner.await(null);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}

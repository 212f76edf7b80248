package dev.lifespan.bench.exit;

import dev.lifespan.App;
import dev.lifespan.Lifespan;

/**
 * The measured child of {@link ExitTimeHarness}: an idle application with three lifespan layers
 * that only proceed, and no main body, so it serves until a signal. {@link App#runAndExit} prints
 * {@code [ 0.05 s] idle: ready in N ms} to {@code System.err} when the layers have started; on
 * SIGTERM it shuts down and exits with 143.
 */
public final class IdleApp {
  private IdleApp() {}

  /** Runs the application until SIGTERM or SIGINT. */
  public static void main(String[] args) {
    App.runAndExit(App.Options.named("idle"), lifespan(), null);
  }

  /** The application's three layers, each of which only proceeds. */
  static Lifespan lifespan() {
    return Lifespan.of(layer("first"), layer("second"), layer("third"));
  }

  private static Lifespan layer(String name) {
    return Lifespan.named(name, Lifespan.Context::proceed);
  }
}

package dev.lifespan.bench.exit;

import dev.lifespan.App;
import java.time.Duration;

/**
 * Diagnostic child of {@link ExitTimeHarness}: {@link IdleApp}, after the same application has once
 * been started and shut down in-process ({@link App#start}, progress discarded), so that the
 * measured shutdown finds the library's classes loaded and its first-use work done. Its exit time
 * against {@link IdleApp}'s is what the library's first use costs on the way out.
 */
public final class WarmIdleApp {
  private WarmIdleApp() {}

  /** Warms up in-process, then runs {@link IdleApp}'s application until SIGTERM or SIGINT. */
  public static void main(String[] args) throws InterruptedException {
    App warmUp =
        App.start(App.Options.named("warm-up").withProgress(line -> {}), IdleApp.lifespan(), null);
    if (!warmUp.awaitReady()) throw new IllegalStateException("warm-up app did not start");
    warmUp.signal(App.Signal.TERM);
    App.Result r =
        warmUp
            .await(Duration.ofSeconds(30))
            .orElseThrow(() -> new IllegalStateException("warm-up app did not stop"));
    if (r.exitCode() != 143) throw new IllegalStateException("warm-up app: " + r);
    IdleApp.main(args);
  }
}

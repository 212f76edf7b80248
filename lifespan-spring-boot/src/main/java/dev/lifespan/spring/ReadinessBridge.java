package dev.lifespan.spring;

import dev.lifespan.App;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationListener;

/**
 * Spring's readiness, as the application publishes it, into the Lifespan application: remembered
 * ({@link LifespanApplication#springReadiness()}); and {@code ACCEPTING_TRAFFIC} while the Lifespan
 * application is no longer {@link App.State#READY} is answered with {@code REFUSING_TRAFFIC}, so
 * that Spring's readiness follows the application's.
 */
final class ReadinessBridge implements ApplicationListener<AvailabilityChangeEvent<?>> {
  private final LifespanApplication application;

  ReadinessBridge(LifespanApplication application) {
    this.application = application;
  }

  @Override
  public void onApplicationEvent(AvailabilityChangeEvent<?> event) {
    if (!(event.getState() instanceof ReadinessState state)) return;
    application.springReadinessChanged(state);
    if (state == ReadinessState.ACCEPTING_TRAFFIC
        && application.app().state() != App.State.READY
        && event.getSource() != application) {
      application.publishRefusing(true);
    }
  }
}

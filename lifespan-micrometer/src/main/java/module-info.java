/**
 * Lifespan Micrometer: metrics of Lifespan's tasks, services, shutdowns and journals in a
 * Micrometer {@code MeterRegistry} ({@link dev.lifespan.micrometer.LifespanMetrics}, {@link
 * dev.lifespan.micrometer.JournalMetrics}), through core's {@link dev.lifespan.LifespanObserver}.
 *
 * <p>lifespan-jdbc is optional: only {@link dev.lifespan.micrometer.JournalMetrics} needs {@code
 * dev.lifespan.jdbc}, at compile time and at run time; an application module that uses it requires
 * {@code dev.lifespan.jdbc} itself (it uses the journal anyway).
 */
@SuppressWarnings("requires-transitive-automatic")
module dev.lifespan.micrometer {
  requires transitive dev.lifespan;
  requires transitive micrometer.core;
  requires static dev.lifespan.jdbc;

  exports dev.lifespan.micrometer;
}

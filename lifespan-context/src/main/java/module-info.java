/**
 * Lifespan context: thread-local context — SLF4J's MDC, OpenTelemetry's {@code Context}, anything
 * with a Micrometer {@code ThreadLocalAccessor} — carried into Lifespan's tasks through
 * Micrometer's context-propagation library ({@link dev.lifespan.context.MicrometerContext}).
 *
 * <p>OpenTelemetry is optional: only {@link dev.lifespan.context.OpenTelemetryContextAccessor}
 * needs {@code io.opentelemetry.context} at run time.
 */
@SuppressWarnings("requires-transitive-automatic")
module dev.lifespan.context {
  requires transitive dev.lifespan;
  requires transitive context.propagation;
  requires static transitive io.opentelemetry.context;

  exports dev.lifespan.context;
}

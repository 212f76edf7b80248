/**
 * Lifespan context: thread-local context — SLF4J's MDC, OpenTelemetry's {@code Context}, anything
 * with a Micrometer {@code ThreadLocalAccessor} — carried into Lifespan's tasks through
 * Micrometer's context-propagation library ({@link dev.lifespan.context.MicrometerContext}).
 *
 * <p>OpenTelemetry is optional: only {@link dev.lifespan.context.OpenTelemetryContextAccessor}
 * needs {@code io.opentelemetry.context}, at compile time and at run time. The requirement is
 * static and not transitive: with {@code transitive}, javac would demand OpenTelemetry on the
 * module path of every module that requires this one, so an application module that uses the
 * accessor requires {@code io.opentelemetry.context} itself (it uses OpenTelemetry's API anyway).
 */
@SuppressWarnings("requires-transitive-automatic")
module dev.lifespan.context {
  requires transitive dev.lifespan;
  requires transitive context.propagation;
  requires static io.opentelemetry.context;

  exports dev.lifespan.context;
}

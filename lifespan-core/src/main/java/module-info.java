/**
 * Lifespan core: cancel scopes, task groups, supervisors and tasks on virtual threads; lifespans,
 * lifespan-locals and the application runner.
 *
 * <p>Only {@code dev.lifespan} is exported; {@code dev.lifespan.internal} holds the implementation,
 * including the JDK Flight Recorder events ({@code dev.lifespan.*}), which JFR finds by class.
 */
module dev.lifespan {
  requires jdk.jfr;
  requires jdk.unsupported;
  requires static java.sql;
  requires static java.net.http;

  exports dev.lifespan;
}

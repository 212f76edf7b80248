/**
 * Lifespan core: cancel scopes, task groups and tasks on virtual threads.
 *
 * <p>Only {@code dev.lifespan} is exported; {@code dev.lifespan.internal} holds the implementation,
 * including the JDK Flight Recorder events ({@code dev.lifespan.*}), which JFR finds by class.
 */
module dev.lifespan {
  requires jdk.jfr;

  exports dev.lifespan;
}

/**
 * Lifespan HTTP: a lifespan-aware server on the JDK's built-in {@code HttpServer}, with requests as
 * tasks of the application, per-route deadlines, health endpoints, an opt-in task dump and a
 * graceful drain on shutdown.
 */
module dev.lifespan.http {
  requires transitive dev.lifespan;
  requires transitive jdk.httpserver;

  exports dev.lifespan.http;
}

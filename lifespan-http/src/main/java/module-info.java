/**
 * Lifespan HTTP: a lifespan-aware HTTP/1.1 server on the JDK's sockets and virtual threads, with
 * requests as tasks of the application, per-route deadlines, bounded clients, health endpoints, an
 * opt-in task dump and a graceful drain on shutdown.
 */
module dev.lifespan.http {
  requires transitive dev.lifespan;

  exports dev.lifespan.http;
}

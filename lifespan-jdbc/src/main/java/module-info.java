/**
 * Lifespan JDBC: durable must-finish work, a journal of entries in the application's own database
 * ({@link dev.lifespan.jdbc.Journal}), written in the caller's transaction and run after it
 * commits, also after a crash.
 */
module dev.lifespan.jdbc {
  requires transitive dev.lifespan;
  requires transitive java.sql;

  exports dev.lifespan.jdbc;
}

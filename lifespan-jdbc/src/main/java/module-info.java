/**
 * Lifespan JDBC: durable must-finish work, a journal of entries in the application's own database
 * ({@link dev.lifespan.jdbc.Journal}), written in the caller's transaction and run after it
 * commits, also after a crash. Its JDK Flight Recorder event ({@code
 * dev.lifespan.jdbc.EntryFailed}) is found by class, as core's are.
 */
module dev.lifespan.jdbc {
  requires transitive dev.lifespan;
  requires transitive java.sql;
  requires jdk.jfr;

  exports dev.lifespan.jdbc;
}

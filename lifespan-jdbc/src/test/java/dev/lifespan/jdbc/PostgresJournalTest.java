package dev.lifespan.jdbc;

import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;

/** The journal on a real PostgreSQL server, a fresh database per test. */
class PostgresJournalTest extends JournalTests {
  @BeforeAll
  static void server() {
    Databases.startPostgres();
  }

  @Override
  DataSource open() {
    return Databases.postgres(Databases.freshPostgresUrl());
  }
}

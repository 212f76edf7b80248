package dev.lifespan.jdbc;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.io.TempDir;

/** The journal on H2 in file mode. */
class H2JournalTest extends JournalTests {
  @TempDir Path dir;
  private Connection keepOpen; // H2 closes a database with its last connection

  @Override
  DataSource open() throws SQLException {
    DataSource ds = Databases.h2(dir);
    keepOpen = ds.getConnection();
    return ds;
  }

  @Override
  void close() throws SQLException {
    keepOpen.close();
  }
}

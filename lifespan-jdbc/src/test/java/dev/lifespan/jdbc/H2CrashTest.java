package dev.lifespan.jdbc;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.io.TempDir;

/** Crashes on H2 in file mode. */
class H2CrashTest extends CrashTests {
  @TempDir Path dir;
  private Connection keepOpen;

  @Override
  DataSource open() throws SQLException {
    DataSource ds = Databases.h2(dir);
    keepOpen = ds.getConnection();
    return ds;
  }

  @Override
  String url() {
    return Databases.h2Url(dir);
  }

  @Override
  void release() throws SQLException {
    keepOpen.close(); // the child opens the file alone
  }

  @Override
  void reopen() throws SQLException {
    keepOpen = dataSource().getConnection();
  }

  @Override
  void close() throws SQLException {
    keepOpen.close();
  }
}

package dev.lifespan.examples;

import dev.lifespan.CancelScope;
import dev.lifespan.CancelledException;
import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A tiny JDBC connection pool over {@link DriverManager}: at most {@code size} connections, opened
 * on demand and kept for reuse until the pool closes. Enough for the demo, and it closes everything
 * it opened.
 *
 * <p>The first connection stays open for the pool's whole life (idle connections are never
 * evicted), which also keeps an embedded H2 database open between requests.
 *
 * <p>Cancellation: the wait for a free connection ends when the caller's scope is cancelled (a
 * request's deadline), with its {@link CancelledException}. What touches a connection runs where no
 * interrupt reaches it, because an interrupt in a driver's I/O breaks the connection, or for an
 * embedded H2 closes the whole database: opening one runs in a scope without interrupts, and giving
 * one back (the rollback of what the borrower left uncommitted) in a shield, since it must finish
 * for the next borrower to get a clean connection.
 */
final class ConnectionPool implements AutoCloseable {
  private final String url;
  private final int size;
  private final Duration acquireTimeout;
  private final Semaphore permits;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger open = new AtomicInteger();
  private volatile boolean closed;

  ConnectionPool(String url, int size, Duration acquireTimeout) {
    if (size < 1) throw new IllegalArgumentException("pool size < 1: " + size);
    this.url = url;
    this.size = size;
    this.acquireTimeout = acquireTimeout;
    this.permits = new Semaphore(size, true);
  }

  private static final CancelScope.Options OPEN =
      CancelScope.Options.named("database: open connection").withoutInterrupts();
  private static final CancelScope.Options GIVE_BACK =
      CancelScope.Options.named("database: return connection").shielded();

  /**
   * One borrowed connection; {@link #close()} gives it back, in a shield: it runs to its end even
   * in a cancelled scope, and throws nothing for that cancellation, which stays visible (the next
   * checkpoint throws it), as a {@code close()} in a {@code finally} block expects.
   */
  final class Lease implements AutoCloseable {
    private Connection connection;

    private Lease(Connection connection) {
      this.connection = connection;
    }

    Connection connection() {
      if (connection == null) throw new IllegalStateException("lease already returned");
      return connection;
    }

    @Override
    public void close() {
      Connection c = connection;
      if (c == null) return;
      connection = null;
      try {
        CancelScope.run(GIVE_BACK, s -> release(c));
      } catch (CancelledException stillVisible) {
        // the caller's cancellation: level-triggered, its next checkpoint throws it again
      }
    }
  }

  /**
   * Borrows a connection, waiting at most the acquire timeout for one to be free.
   *
   * @throws SQLTransientConnectionException if none became free in time
   * @throws SQLException if the pool is closed or a new connection cannot be opened
   * @throws CancelledException if the caller's scope was cancelled while it waited for a connection
   *     (or before)
   */
  Lease acquire() throws SQLException {
    if (closed) throw new SQLException("connection pool closed");
    boolean got;
    try {
      got = permits.tryAcquire(acquireTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      CancelScope.checkpoint(); // the caller's cancellation (a deadline): thrown as such
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a database connection", e);
    }
    if (!got) {
      throw new SQLTransientConnectionException(
          "no database connection free within " + acquireTimeout.toMillis() + " ms");
    }
    Connection[] borrowed = new Connection[1];
    try {
      CancelScope.run(
          OPEN,
          s -> {
            CancelScope.checkpoint(); // cancelled already: no connection is opened
            Connection c = idle.pollFirst();
            if (c == null) {
              c = DriverManager.getConnection(url);
              open.incrementAndGet();
            }
            borrowed[0] = c;
          });
      return new Lease(borrowed[0]);
    } catch (SQLException | RuntimeException | Error e) {
      // a connection opened while the caller was cancelled goes back, unused
      if (borrowed[0] != null) keep(borrowed[0]);
      permits.release();
      throw e;
    }
  }

  private void release(Connection c) {
    boolean reuse = !closed;
    try {
      if (reuse && !c.getAutoCommit()) {
        c.rollback(); // whatever the borrower left uncommitted
        c.setAutoCommit(true);
      }
      reuse &= !c.isClosed();
    } catch (SQLException e) {
      reuse = false;
    }
    if (reuse) {
      keep(c);
    } else {
      closeQuietly(c);
    }
    permits.release();
  }

  /** Makes {@code c} idle, or closes it if the pool has closed. */
  private void keep(Connection c) {
    idle.addFirst(c);
    if (closed && idle.remove(c)) closeQuietly(c); // close() ran meanwhile
  }

  private void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      // nothing more to do with it
    } finally {
      open.decrementAndGet();
    }
  }

  /**
   * This pool as a {@link DataSource} (for the journal): {@code getConnection()} borrows a
   * connection as {@link #acquire()} does, and closing the connection it returns gives it back.
   */
  DataSource dataSource() {
    return new PooledDataSource();
  }

  private final class PooledDataSource implements DataSource {
    @Override
    public Connection getConnection() throws SQLException {
      Lease lease = acquire();
      Connection c = lease.connection();
      return (Connection)
          Proxy.newProxyInstance(
              Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "close" -> {
                    lease.close();
                    return null;
                  }
                  case "isClosed" -> {
                    try {
                      lease.connection();
                    } catch (IllegalStateException returned) {
                      return true;
                    }
                  }
                }
                try {
                  return method.invoke(lease.connection(), args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                } catch (IllegalStateException returned) {
                  throw new SQLException("connection already closed");
                }
              });
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      throw new SQLFeatureNotSupportedException("the pool's connections have one user");
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
      throw new SQLException("not a wrapper of " + type.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }

  /** Connections open now, borrowed or idle. */
  int openConnections() {
    return open.get();
  }

  /** The most connections this pool opens at once. */
  int size() {
    return size;
  }

  /**
   * Closes the idle connections; connections still borrowed are closed when they are returned.
   * Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    Connection c;
    while ((c = idle.pollFirst()) != null) closeQuietly(c);
  }
}

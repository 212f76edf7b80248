package dev.lifespan.springdemo;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.lifespan.CancelScope;
import dev.lifespan.jdbc.Entry;
import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@code demo.mode=lifespan}: each order's confirmation is an entry of the lifespan-jdbc {@link
 * Journal}, written in the order's own transaction; the 201 follows its commit. The journal (run by
 * the Lifespan starter) then confirms the order as a must-finish task: SIGTERM lets it finish
 * within the grace period, and what a crash or the end of the grace period interrupts stays pending
 * in the table for the next start, which confirms it; the confirmation row is written in the
 * transaction that marks the entry done, so an order is confirmed once.
 */
public final class JournalConfirmations implements Confirmations {
  /** The journal's kind that confirms an order; its key is the order's id. */
  static final String CONFIRM = "confirm-order";

  private final OrderStore store;
  private final Journal journal;
  private final DataSource dataSource;
  private final TransactionTemplate tx;

  JournalConfirmations(
      OrderStore store, Journal journal, DataSource dataSource, TransactionTemplate tx) {
    this.store = store;
    this.journal = journal;
    this.dataSource = dataSource;
    this.tx = tx;
  }

  @Override
  public long take(NewOrder order) {
    Taken taken =
        tx.execute(
            status -> {
              long id = store.insert(order);
              // the transaction's own connection: the entry commits with the order, or neither
              Connection c = DataSourceUtils.getConnection(dataSource);
              try {
                return new Taken(
                    id, journal.enqueue(c, CONFIRM, Long.toString(id), journal.owner()));
              } catch (SQLException e) {
                throw new IllegalStateException(
                    "order " + id + ": cannot enqueue its confirmation", e);
              }
            });
    taken.confirmation().start(); // committed: run it now rather than at the next poll
    return taken.id();
  }

  private record Taken(long id, Journal.Enqueued confirmation) {}

  /**
   * The handler of {@link #CONFIRM}: simulates the slow delivery of order {@code entry.key()}, then
   * writes its confirmation in {@code c}'s transaction, which the journal commits with the entry's
   * done mark.
   */
  static final class Confirmer implements Kind.Handler {
    private final Counters counters;
    private final DemoProperties demo;
    private volatile String owner = "";

    Confirmer(Counters counters, DemoProperties demo) {
      this.counters = counters;
      this.demo = demo;
    }

    @Override
    public void handle(Entry entry, Connection c) throws Exception {
      long id = Long.parseLong(entry.key());
      int ms =
          ThreadLocalRandom.current().nextInt(demo.confirmMinMillis(), demo.confirmMaxMillis() + 1);
      CancelScope.sleep(Duration.ofMillis(ms)); // the delivery: only the end of the grace stops it
      // without interrupts: an interrupt in H2's file I/O closes the database
      CancelScope.run(
          CancelScope.Options.named("confirm order " + id).withoutInterrupts(),
          scope -> {
            CancelScope.checkpoint();
            OrderStore.confirm(c, id, ms);
          });
      counters.confirmed(id, ms, !entry.payload().equals(owner));
    }
  }

  /**
   * The confirmations' connection pool, apart from the requests' (each running confirmation holds
   * one for its delivery); not a {@link DataSource} bean, so that Spring Boot still makes the
   * application's own.
   */
  public record JournalPool(HikariDataSource dataSource) implements AutoCloseable {
    @Override
    public void close() {
      dataSource.close();
    }
  }

  /** The beans of this mode. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(
      name = "demo.mode",
      havingValue = DemoProperties.LIFESPAN,
      matchIfMissing = true)
  static class Config {
    @Bean
    JournalPool journalPool(
        @Value("${spring.datasource.url}") String url,
        @Value("${spring.datasource.username:}") String user,
        @Value("${spring.datasource.password:}") String password,
        DemoProperties demo) {
      HikariConfig c = new HikariConfig();
      c.setPoolName("confirmations");
      c.setJdbcUrl(url);
      if (!user.isEmpty()) c.setUsername(user);
      if (!password.isEmpty()) c.setPassword(password);
      c.setMaximumPoolSize(demo.confirmationsAtOnce() + 4);
      c.setMinimumIdle(0);
      c.setConnectionTimeout(5000);
      return new JournalPool(new HikariDataSource(c));
    }

    @Bean
    Confirmer confirmer(Counters counters, DemoProperties demo) {
      return new Confirmer(counters, demo);
    }

    @Bean
    Journal journal(JournalPool pool, Confirmer confirmer, DemoProperties demo) {
      Journal journal =
          Journal.create(
                  pool.dataSource(),
                  Journal.Options.named("confirmations")
                      .withLease(demo.lease())
                      .withMaxConcurrency(demo.confirmationsAtOnce()))
              .register(Kind.of(CONFIRM, confirmer));
      confirmer.owner = journal.owner();
      return journal;
    }

    @Bean
    Confirmations confirmations(
        OrderStore store, Journal journal, DataSource dataSource, TransactionTemplate tx) {
      return new JournalConfirmations(store, journal, dataSource, tx);
    }
  }
}

package dev.lifespan.springdemo;

import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * The service's counts, and its lines ({@code order 7 taken}, {@code order 7 confirmed}) on the
 * logger {@code orders}. Prints the final counts when the context closes, after the beans that use
 * it (the confirmations) are gone.
 */
@Component
public class Counters implements DisposableBean {
  static final Logger LOG = LoggerFactory.getLogger("orders");

  private final AtomicLong taken = new AtomicLong();
  private final AtomicLong confirmed = new AtomicLong();
  private final AtomicLong earlier = new AtomicLong();
  private final boolean quiet;

  Counters(DemoProperties demo) {
    this.quiet = demo.quiet();
  }

  void taken(long id) {
    taken.incrementAndGet();
    if (!quiet) LOG.info("order {} taken", id);
  }

  /**
   * Order {@code id} was confirmed; {@code before} if this instance did not take it (the journal
   * found it pending at startup).
   */
  void confirmed(long id, int ms, boolean before) {
    (before ? earlier : confirmed).incrementAndGet();
    if (!quiet) {
      LOG.info(
          "order {} confirmed (delivery took {} ms){}",
          id,
          ms,
          before ? ", taken before this start" : "");
    }
  }

  @Override
  public void destroy() {
    long c = confirmed.get();
    long t = taken.get();
    LOG.info(
        "final counts: orders taken {}, confirmed {}, awaiting confirmation {};"
            + " confirmed for orders taken earlier {}",
        t,
        c,
        t - c,
        earlier.get());
  }
}

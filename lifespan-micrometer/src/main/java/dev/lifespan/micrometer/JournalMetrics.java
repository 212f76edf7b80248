package dev.lifespan.micrometer;

import dev.lifespan.jdbc.Journal;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.sql.SQLException;
import java.util.Objects;

/**
 * The durable work of one {@link Journal} (lifespan-jdbc) as Micrometer meters, tagged {@code
 * journal} (the journal's name) and the common tags given to the constructor:
 *
 * <table class="striped">
 *   <caption>Meters</caption>
 *   <thead><tr><th>name<th>type<th>what</tr></thead>
 *   <tbody>
 *   <tr><td>{@code lifespan.journal.pending}<td>gauge<td>entries pending in the journal's table,
 *       from every instance, running ones included ({@link Journal#pendingEntries()})
 *   <tr><td>{@code lifespan.journal.retried}<td>counter<td>runs that failed and were retried by
 *       this instance ({@link Journal#retriedRuns()})
 *   <tr><td>{@code lifespan.journal.failed}<td>counter<td>entries this instance marked failed for
 *       good ({@link Journal#failedEntries()})
 *   </tbody>
 * </table>
 *
 * {@snippet :
 * new JournalMetrics(journal).bindTo(registry);
 * }
 *
 * <p>The gauge runs one {@code SELECT COUNT(*)} (5 s query timeout) on a connection of the
 * journal's {@code DataSource} each time the registry reads it, on the registry's thread (a
 * Prometheus scrape, a push registry's step); it reads {@code NaN} when the database cannot answer.
 * The counters read memory. Needs lifespan-jdbc at run time; nothing else in this module does.
 */
public final class JournalMetrics implements MeterBinder {
  private final Journal journal;
  private final Tags tags;

  /** Meters of {@code journal}, with no common tags. */
  public JournalMetrics(Journal journal) {
    this(journal, Tags.empty());
  }

  /** Meters of {@code journal} that also carry {@code commonTags}. */
  public JournalMetrics(Journal journal, Iterable<Tag> commonTags) {
    this.journal = Objects.requireNonNull(journal, "journal");
    this.tags =
        Tags.of(Objects.requireNonNull(commonTags, "commonTags")).and("journal", journal.name());
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    Gauge.builder("lifespan.journal.pending", journal, JournalMetrics::pending)
        .tags(tags)
        .baseUnit("entries")
        .description("Entries pending in the journal's table (running ones included)")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder("lifespan.journal.retried", journal, j -> j.retriedRuns())
        .tags(tags)
        .baseUnit("runs")
        .description("Runs of journal entries that failed and were retried")
        .register(registry);
    FunctionCounter.builder("lifespan.journal.failed", journal, j -> j.failedEntries())
        .tags(tags)
        .baseUnit("entries")
        .description("Journal entries marked failed for good")
        .register(registry);
  }

  private static double pending(Journal j) {
    try {
      return j.pendingEntries();
    } catch (SQLException | RuntimeException e) {
      return Double.NaN;
    }
  }

  @Override
  public String toString() {
    return "JournalMetrics[" + journal.name() + "]";
  }
}

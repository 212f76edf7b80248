package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lifespan.jdbc.Journal;
import dev.lifespan.jdbc.Kind;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.DisposableBean;

/** A Journal bean on Spring Boot's DataSource: a layer of the Lifespan application. */
class JournalTest {

  /** Records, when Spring destroys it, the journal's state. */
  static final class Resource implements DisposableBean {
    final List<String> seen = new CopyOnWriteArrayList<>();
    Journal journal;

    @Override
    public void destroy() {
      seen.add("journal " + journal.state());
    }
  }

  @Test
  void aJournalBeanRunsItsEntriesAndStopsBeforeTheSingletonsAreDestroyed() throws Exception {
    CompletableFuture<String> ran = new CompletableFuture<>();
    Resource resource = new Resource();
    var context =
        Contexts.plain(
            c -> {
              c.registerBean(
                  "journal",
                  Journal.class,
                  () ->
                      Journal.create(c.getBean(DataSource.class), Journal.Options.named("journal"))
                          .register(Kind.of("note", (entry, tx) -> ran.complete(entry.key()))));
              c.registerBean("resource", Resource.class, () -> resource);
            },
            "spring.datasource.url=jdbc:h2:mem:journal-test;DB_CLOSE_DELAY=-1");
    Journal journal = context.getBean(Journal.class);
    resource.journal = journal;
    assertEquals(Journal.State.RUNNING, journal.state());
    journal.enqueueAndCommit("note", "k1", "");
    assertEquals("k1", ran.get(30, TimeUnit.SECONDS));
    context.close();
    assertEquals(List.of("journal STOPPED"), resource.seen);
  }
}

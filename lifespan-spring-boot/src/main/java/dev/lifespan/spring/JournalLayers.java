package dev.lifespan.spring;

import dev.lifespan.Lifespan;
import dev.lifespan.jdbc.Journal;
import java.util.List;
import org.springframework.beans.factory.ListableBeanFactory;

/** The layers of the context's {@link Journal} beans; loaded only when lifespan-jdbc is there. */
final class JournalLayers {
  private JournalLayers() {}

  static List<Lifespan> of(ListableBeanFactory beans) {
    return beans.getBeanProvider(Journal.class).orderedStream().map(Journal::lifespan).toList();
  }
}

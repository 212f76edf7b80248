package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the library logs ({@code System.Logger} "dev.lifespan", through the JDK's default backend,
 * java.util.logging) during one test, kept for the test's assertions instead of printed. Register
 * it on a field, {@code @RegisterExtension final LogCapture logs = new LogCapture();}, in tests
 * that provoke records on purpose: it installs a handler on logger {@code dev.lifespan} with the
 * parent handlers (the console) off before each test, and restores both after it.
 */
final class LogCapture implements BeforeEachCallback, AfterEachCallback {
  private final Logger logger = Logger.getLogger("dev.lifespan");
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Handler handler =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private boolean useParentHandlers;

  @Override
  public void beforeEach(ExtensionContext context) {
    records.clear();
    useParentHandlers = logger.getUseParentHandlers();
    logger.addHandler(handler);
    logger.setUseParentHandlers(false);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    logger.removeHandler(handler);
    logger.setUseParentHandlers(useParentHandlers);
  }

  /** Every record so far, oldest first. */
  List<LogRecord> records() {
    return List.copyOf(records);
  }

  /** The messages of every record so far, oldest first. */
  List<String> messages() {
    return records.stream().map(LogRecord::getMessage).toList();
  }

  /**
   * The only record so far, after asserting that there is exactly one and it is at {@code level}.
   */
  LogRecord single(Level level) {
    List<LogRecord> all = records();
    assertEquals(1, all.size(), "one record expected: " + messages());
    assertEquals(level, all.getFirst().getLevel(), all.getFirst().getMessage());
    return all.getFirst();
  }

  @Override
  public String toString() {
    return String.join("\n", messages());
  }
}

package dev.lifespan.spring;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * Keeps what is logged (through Logback's root logger) while it is open, instead of printing it;
 * closing it puts the console back.
 */
final class LogCapture implements AutoCloseable {
  private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
  private final Logger root;
  private final AppenderBase<ILoggingEvent> appender;
  private final Appender<ILoggingEvent> console;

  LogCapture() {
    LoggerContext logging = (LoggerContext) LoggerFactory.getILoggerFactory();
    root = logging.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            events.add(event);
          }
        };
    appender.setContext(logging);
    appender.start();
    root.addAppender(appender);
    console = root.getAppender("CONSOLE");
    if (console != null) root.detachAppender(console);
  }

  /** What was logged so far. */
  List<ILoggingEvent> events() {
    return events;
  }

  /** The formatted messages logged so far, one per line. */
  String messages() {
    StringBuilder sb = new StringBuilder();
    for (ILoggingEvent e : events) sb.append(e.getFormattedMessage()).append('\n');
    return sb.toString();
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    if (console != null) root.addAppender(console);
  }
}

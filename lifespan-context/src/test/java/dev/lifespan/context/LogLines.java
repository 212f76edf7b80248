package dev.lifespan.context;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;

/**
 * The lines a real Logback logger writes, formatted by a pattern that prints MDC values, for as
 * long as this is open.
 */
final class LogLines implements AutoCloseable {
  /** The pattern: the MDC's requestId and service, the thread, the message. */
  static final String PATTERN = "requestId=%X{requestId} service=%X{service} [%thread] %msg";

  final org.slf4j.Logger log;
  private final Logger logger;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final AppenderBase<ILoggingEvent> appender;

  LogLines(String name) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    layout.setPattern(PATTERN);
    layout.start();
    appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            lines.add(layout.doLayout(event));
          }
        };
    appender.setContext(context);
    appender.setName("lines " + name);
    appender.start();
    logger = context.getLogger("dev.lifespan.context.test." + name);
    logger.setLevel(Level.INFO);
    logger.setAdditive(false);
    logger.addAppender(appender);
    log = LoggerFactory.getLogger(logger.getName());
  }

  /** The lines written so far, formatted. */
  List<String> lines() {
    return List.copyOf(lines);
  }

  /** The one line whose message ends with {@code message}. */
  String line(String message) {
    List<String> found = lines.stream().filter(l -> l.endsWith("] " + message)).toList();
    if (found.size() != 1) {
      throw new AssertionError("expected one line '" + message + "', got " + lines);
    }
    return found.get(0);
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}

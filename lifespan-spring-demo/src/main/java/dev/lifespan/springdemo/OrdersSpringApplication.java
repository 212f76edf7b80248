package dev.lifespan.springdemo;

import dev.lifespan.spring.LifespanProperties.InvalidPropertiesException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.context.event.EventListener;
import org.springframework.core.env.Environment;

/**
 * The orders service as a Spring Boot web application: Spring MVC on virtual threads, {@code
 * JdbcClient} on HikariCP, H2 by default or PostgreSQL by URL, readiness through Actuator.
 *
 * <ul>
 *   <li>{@code POST /orders} with {@code {"item": "book", "quantity": 2}} answers 201 with {@code
 *       {"id": N}} once the order and its confirmation are durable; the confirmation (a slow
 *       downstream call, simulated: {@code --confirm-ms}) runs afterwards.
 *   <li>{@code GET /orders/{id}} shows the order and whether it is confirmed; {@code GET /ping}
 *       answers {@code pong}; {@code /actuator/health/readiness} and {@code .../liveness} are the
 *       probes.
 * </ul>
 *
 * <p>Two modes, one code base ({@code --mode}): {@code lifespan} (the default) runs with the
 * Lifespan starter: each confirmation is an entry of the lifespan-jdbc journal, written in the
 * order's transaction, so that a shutdown finishes it and a crash leaves it for the next start; on
 * SIGTERM readiness drops first and the service goes on serving through the drain delay. {@code
 * plain-spring} is the baseline: Spring Boot's graceful shutdown and an {@code @Async} confirmation
 * on its default executor ({@link AsyncConfirmations}).
 *
 * <p>A bad option prints one line and exits 2; a startup failure (a port in use, a database that
 * cannot be opened) prints one line and exits 3.
 */
@SpringBootApplication
@EnableConfigurationProperties(DemoProperties.class)
public class OrdersSpringApplication {
  /** Exit code of a bad option. */
  static final int BAD_OPTION = 2;

  /** Exit code of a failed startup. */
  static final int STARTUP_FAILED = 3;

  static final String USAGE =
      """
      orders (Spring Boot): the orders service; stop it with Ctrl-C or SIGTERM.
        --port=N               HTTP port (default 8080; 0: any free port)
        --db=JDBC_URL          the database (default: H2 files under ./target/orders-spring-db);
                               PostgreSQL works too: jdbc:postgresql://host:5432/db?user=...
        --mode=MODE            lifespan (default: the Lifespan starter) or plain-spring (the
                               baseline: Spring's graceful shutdown, @Async confirmations)
        --confirm-ms=MIN[-MAX] simulated delivery of each order's confirmation (default 1000-2000)
        --order-ms=N           how long POST /orders works before it stores the order
                               (default 0; the measurements use it to have requests in flight)
        --quiet                no line per order (for load tests)
        --lease=DURATION       mode lifespan: how long a confirmation's claim lasts unless
                               renewed (default 10s): after a crash, the next start confirms
                               the dead one's orders this long after it died
        --name.of.property=V   any Spring Boot property, e.g. --lifespan.shutdown.drain-delay=5s
      Exit codes: 2 bad option, 3 startup failed (e.g. the port is in use); after SIGTERM, see
      the mode (README).
      """;

  /** The short options and the Spring properties they set. */
  private static final Map<String, String> SHORT =
      Map.of(
          "port", "server.port",
          "db", "spring.datasource.url",
          "mode", "demo.mode",
          "confirm-ms", "demo.confirm-ms",
          "quiet", "demo.quiet",
          "lease", "demo.lease",
          "order-ms", "demo.order-ms");

  /** Runs the service until SIGTERM or Ctrl-C; {@code --help} lists the options. */
  public static void main(String[] args) {
    List<String> springArgs;
    String mode;
    try {
      springArgs = springArgs(args);
      if (springArgs == null) {
        System.out.print(USAGE);
        return;
      }
      mode = mode(springArgs);
      DemoProperties.range(value(springArgs, "demo.confirm-ms", "1000-2000"));
    } catch (IllegalArgumentException e) {
      System.err.println("orders: " + e.getMessage());
      System.exit(BAD_OPTION);
      return;
    }
    SpringApplication app = new SpringApplication(OrdersSpringApplication.class);
    app.setAdditionalProfiles(mode);
    try {
      app.run(springArgs.toArray(String[]::new));
    } catch (Throwable t) {
      String analysed = OneLineFailureReporter.take();
      BindException bind = cause(t, BindException.class);
      boolean badOption = bind != null || cause(t, InvalidPropertiesException.class) != null;
      String line;
      if (bind != null) {
        line = "bad option: " + option(bind) + ": " + firstLine(innermost(bind).getMessage());
      } else if (cause(t, SQLException.class) != null) {
        String db = value(springArgs, "spring.datasource.url", null);
        line =
            "startup failed: "
                + (db == null ? "the default database" : "database " + redacted(db))
                + ": "
                + reason(t);
      } else {
        line =
            (badOption ? "bad option: " : "startup failed: ")
                + (analysed != null ? analysed : reason(t));
      }
      System.err.println("orders: " + line);
      System.exit(badOption ? BAD_OPTION : STARTUP_FAILED);
    }
  }

  /** The option a binding failed on, as given: {@code --name=value}, by its short name if any. */
  private static String option(BindException bind) {
    String name = bind.getName().toString();
    for (Map.Entry<String, String> e : SHORT.entrySet()) {
      if (e.getValue().equals(name)) name = e.getKey();
    }
    ConfigurationProperty p = bind.getProperty();
    return "--" + name + (p == null ? "" : "=" + p.getValue());
  }

  /** {@code url} without the password it may hold ({@code password=...}, {@code user:pw@}). */
  static String redacted(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***")
        .replaceAll("(//[^/:@]+:)[^@/]*@", "$1***@");
  }

  /**
   * The arguments for Spring Boot: the short options as the properties they set, an H2 URL with the
   * settings {@link #h2} adds; null for {@code --help}.
   *
   * @throws IllegalArgumentException naming an unknown option, or one without {@code --}
   */
  static List<String> springArgs(String... args) {
    List<String> out = new ArrayList<>();
    for (String arg : args) {
      if (arg.equals("--help") || arg.equals("-h")) return null;
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new IllegalArgumentException(
            "unknown argument '" + arg + "'; options are --name=value (--help lists them)");
      }
      int eq = arg.indexOf('=');
      String name = arg.substring(2, eq < 0 ? arg.length() : eq);
      String value = eq < 0 ? null : arg.substring(eq + 1);
      String property = SHORT.get(name);
      if (property == null && !name.contains(".")) {
        throw new IllegalArgumentException(
            "unknown option '--" + name + "'; --help lists the options");
      }
      if (property == null) property = name;
      if (value == null) {
        if (!property.equals("demo.quiet")) {
          throw new IllegalArgumentException(
              "option '--" + name + "' needs a value: --" + name + "=...");
        }
        value = "true";
      }
      if (property.equals("spring.datasource.url")) value = h2(database(name, value.strip()));
      out.add("--" + property + "=" + value);
    }
    return out;
  }

  /**
   * {@code url}, checked: one of the databases the demo has a driver for.
   *
   * @throws IllegalArgumentException naming the option and the value
   */
  private static String database(String option, String url) {
    if (url.startsWith("jdbc:h2:") || url.startsWith("jdbc:postgresql:")) return url;
    throw new IllegalArgumentException(
        "--" + option + " must be a jdbc:h2: or jdbc:postgresql: URL, not '" + redacted(url) + "'");
  }

  /**
   * {@code url}, and for H2 these settings unless set: {@code WRITE_DELAY=0} (a commit is on disk
   * before the 201 that follows it, so a {@code kill -9} cannot lose it), {@code FILE_LOCK=FS} (the
   * operating system releases the lock of a killed process), {@code DB_CLOSE_ON_EXIT=FALSE} (the
   * pool closes the database, not H2's own shutdown hook while confirmations still write) and
   * {@code TRACE_LEVEL_FILE=0} (no trace file).
   */
  static String h2(String url) {
    if (!url.startsWith("jdbc:h2:")) return url;
    String upper = url.toUpperCase(Locale.ROOT);
    if (!upper.contains("WRITE_DELAY")) url += ";WRITE_DELAY=0";
    if (!upper.contains("FILE_LOCK")) url += ";FILE_LOCK=FS";
    if (!upper.contains("DB_CLOSE_ON_EXIT")) url += ";DB_CLOSE_ON_EXIT=FALSE";
    if (!upper.contains("TRACE_LEVEL_FILE")) url += ";TRACE_LEVEL_FILE=0";
    return url;
  }

  private static String mode(List<String> springArgs) {
    String mode = value(springArgs, "demo.mode", DemoProperties.LIFESPAN).strip();
    if (!mode.equals(DemoProperties.LIFESPAN) && !mode.equals(DemoProperties.PLAIN_SPRING)) {
      throw new IllegalArgumentException(
          "--mode must be "
              + DemoProperties.LIFESPAN
              + " or "
              + DemoProperties.PLAIN_SPRING
              + ", not '"
              + mode
              + "'");
    }
    return mode;
  }

  private static String value(List<String> springArgs, String property, String otherwise) {
    String found = otherwise;
    for (String a : springArgs) {
      if (a.startsWith("--" + property + "=")) found = a.substring(property.length() + 3);
    }
    return found;
  }

  private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
    for (Throwable c = t; c != null; c = c.getCause()) if (type.isInstance(c)) return type.cast(c);
    return null;
  }

  /** The innermost message of {@code t}'s causes, on one line. */
  static String reason(Throwable t) {
    Throwable c = innermost(t);
    return firstLine(
        c == null ? t.toString() : c.getMessage() + " (" + c.getClass().getSimpleName() + ")");
  }

  /** The innermost of {@code t}'s causes (itself included) with a message, or null. */
  private static Throwable innermost(Throwable t) {
    Throwable found = null;
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c.getMessage() != null && !c.getMessage().isBlank()) found = c;
    }
    return found;
  }

  private static String firstLine(String s) {
    return s.lines().findFirst().orElse(s).strip();
  }

  /** Says where the service listens, once it is ready. */
  @EventListener(ApplicationReadyEvent.class)
  void ready(ApplicationReadyEvent event) {
    Environment env = event.getApplicationContext().getEnvironment();
    Counters.LOG.info(
        "orders service (pid {}, mode {}) ready: listening on http://127.0.0.1:{}; database {}",
        ProcessHandle.current().pid(),
        env.getProperty("demo.mode"),
        env.getProperty("local.server.port"),
        env.getProperty("spring.datasource.url", "").replaceAll("(?i)(password=)[^&;]*", "$1***"));
  }
}

package dev.lifespan.spring;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.context.ApplicationListener;

/**
 * Tomcat's stop does not wait for request threads that outlived the graceful shutdown. On its own,
 * Tomcat's stop waits up to 5 s ({@code executorTerminationTimeoutMillis}) for the threads of its
 * own pool to end once it has interrupted them; a request that ignores the interrupt (a blocking
 * call on a platform thread) has then already had the whole grace period, and those 5 s come out of
 * the teardown's budget, before the supervisors' phase: enough to reach the hard deadline. The
 * starter's log names such a request instead ({@link LifespanApplication}).
 *
 * <p>Set once the web server has started, on each connector of an embedded Tomcat (found through
 * the methods Spring Boot 3.5 and 4.0 share, so that neither's classes are needed); a connector
 * customizer of the application's own that sets the property wins, as it runs earlier and this only
 * lowers a wait that was not changed from Tomcat's default. Nothing for Jetty (its stop does not
 * wait for request threads) or Tomcat on virtual threads (its executor is not its own).
 */
final class TomcatStopWait implements ApplicationListener<ApplicationStartedEvent> {
  private static final Logger LOG = LoggerFactory.getLogger("dev.lifespan.spring");

  /** Tomcat's default of {@code executorTerminationTimeoutMillis}. */
  static final String TOMCAT_DEFAULT = "5000";

  @Override
  public void onApplicationEvent(ApplicationStartedEvent event) {
    Object tomcat;
    try {
      Object server =
          event
              .getApplicationContext()
              .getClass()
              .getMethod("getWebServer")
              .invoke(event.getApplicationContext());
      if (server == null) return;
      tomcat = server.getClass().getMethod("getTomcat").invoke(server);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return; // no web server, or not Tomcat
    }
    try {
      Object service = tomcat.getClass().getMethod("getService").invoke(tomcat);
      Object[] connectors =
          (Object[]) service.getClass().getMethod("findConnectors").invoke(service);
      for (Object c : connectors) {
        var get = c.getClass().getMethod("getProperty", String.class);
        var set = c.getClass().getMethod("setProperty", String.class, String.class);
        Object now = get.invoke(c, "executorTerminationTimeoutMillis");
        if (now == null || TOMCAT_DEFAULT.equals(String.valueOf(now))) {
          set.invoke(c, "executorTerminationTimeoutMillis", "0");
        }
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("Tomcat's stop wait left as it is: {}", e.toString());
    }
  }
}

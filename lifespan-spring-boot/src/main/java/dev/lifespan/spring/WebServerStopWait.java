package dev.lifespan.spring;

import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationStartedEvent;
import org.springframework.context.ApplicationListener;

/**
 * The embedded web server's stop does not wait seconds more for request threads that outlived the
 * graceful shutdown. Such a request (one that ignores its interrupt: a blocking call on a platform
 * thread) has had the whole grace period already, and the starter's log names it ({@link
 * LifespanApplication}); waiting for it again only delays the rest of the shutdown:
 *
 * <ul>
 *   <li>Tomcat's stop interrupts its request threads, then waits up to 5 s ({@code
 *       executorTerminationTimeoutMillis}) for them, before the supervisors' phase: out of the
 *       teardown's budget, enough to reach the hard deadline. Set to 0: it still interrupts them.
 *       (When the context is destroyed, after the application has stopped, Tomcat still waits up to
 *       2 s, its servlets' {@code unloadDelay}, for a servlet that serves them: fixed when the
 *       servlet is added, so out of reach here; it delays the process's exit by that much.)
 *   <li>Jetty's thread pool waits 2.5 s, interrupts, waits 2.5 s more ({@code stopTimeout}, 5 s),
 *       when the context is destroyed: it delays the process's exit. Set to {@value #JETTY_STOP_MS}
 *       ms: it still interrupts them.
 * </ul>
 *
 * <p>Set once the web server has started, through the methods Spring Boot 3.5 and 4.0 share, so
 * that neither's classes are needed, and only where the setting is still the server's default, so
 * that an application's own wins. Tomcat on virtual threads runs its requests on an executor that
 * is not its own, and does not wait for them anyway.
 */
final class WebServerStopWait implements ApplicationListener<ApplicationStartedEvent> {
  private static final Logger LOG = LoggerFactory.getLogger("dev.lifespan.spring");

  /** Tomcat's default of {@code executorTerminationTimeoutMillis}. */
  static final String TOMCAT_DEFAULT = "5000";

  /** Jetty's default stop timeout of its thread pool. */
  static final long JETTY_DEFAULT = 5000;

  /** The stop timeout given to Jetty's thread pool: its interrupt comes after half of it. */
  static final long JETTY_STOP_MS = 200;

  @Override
  public void onApplicationEvent(ApplicationStartedEvent event) {
    Object server;
    try {
      server = call(event.getApplicationContext(), "getWebServer");
    } catch (ReflectiveOperationException | RuntimeException e) {
      return; // not a web application
    }
    if (server == null) return;
    try {
      Method tomcat = method(server, "getTomcat");
      if (tomcat != null) tomcat(tomcat.invoke(server));
      Method jetty = method(server, "getServer");
      if (jetty != null) jetty(jetty.invoke(server));
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("the web server's stop wait left as it is: {}", e.toString());
    }
  }

  private static void tomcat(Object tomcat) throws ReflectiveOperationException {
    for (Object c : (Object[]) call(call(tomcat, "getService"), "findConnectors")) {
      Object now =
          c.getClass()
              .getMethod("getProperty", String.class)
              .invoke(c, "executorTerminationTimeoutMillis");
      if (now == null || TOMCAT_DEFAULT.equals(String.valueOf(now))) {
        c.getClass()
            .getMethod("setProperty", String.class, String.class)
            .invoke(c, "executorTerminationTimeoutMillis", "0");
      }
    }
  }

  private static void jetty(Object server) throws ReflectiveOperationException {
    Method threadPool = method(server, "getThreadPool");
    if (threadPool == null) return;
    Object pool = threadPool.invoke(server);
    Method get = method(pool, "getStopTimeout");
    if (get != null && get.invoke(pool) instanceof Long now && now == JETTY_DEFAULT) {
      pool.getClass().getMethod("setStopTimeout", long.class).invoke(pool, JETTY_STOP_MS);
    }
  }

  /** {@code target.name()}, a public method without parameters. */
  static Object call(Object target, String name) throws ReflectiveOperationException {
    return target.getClass().getMethod(name).invoke(target);
  }

  private static Method method(Object target, String name) {
    try {
      return target.getClass().getMethod(name);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }
}

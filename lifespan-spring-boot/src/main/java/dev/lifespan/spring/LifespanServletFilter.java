package dev.lifespan.spring;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.springframework.core.Ordered;

/**
 * Runs every request of the main web server as a thread of the Lifespan application (so that {@code
 * LifespanLocal}s resolve in controllers and {@code Supervisor.fireAndForget} lands in the
 * application), and tells the {@link LifespanEndpoint} whether the client is on the loopback
 * interface and not behind a proxy.
 */
final class LifespanServletFilter implements Filter, Ordered {
  /** The request the calling thread serves; its address is looked at only if the endpoint asks. */
  private static final ThreadLocal<ServletRequest> REQUEST = new ThreadLocal<>();

  private final LifespanApplication application;

  LifespanServletFilter(LifespanApplication application) {
    this.application = application;
  }

  /** Whether the request the calling thread serves came from loopback, not through a proxy. */
  static boolean fromLoopback() {
    ServletRequest r = REQUEST.get();
    return r != null && loopback(r);
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    ServletRequest outer = REQUEST.get();
    REQUEST.set(request);
    try {
      application.call(
          () -> {
            chain.doFilter(request, response);
            return null;
          });
    } catch (IOException | ServletException | RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new ServletException(e);
    } finally {
      if (outer == null) REQUEST.remove();
      else REQUEST.set(outer);
    }
  }

  private static boolean loopback(ServletRequest request) {
    if (request instanceof HttpServletRequest http
        && (http.getHeader("Forwarded") != null
            || http.getHeader("X-Forwarded-For") != null
            || http.getHeader("X-Real-IP") != null)) {
      return false;
    }
    String address = request.getRemoteAddr();
    if (address == null || address.isEmpty()) return false;
    char first = address.charAt(0);
    if (!(Character.isDigit(first) || first == ':' || first == '[')) return false; // not a literal
    try {
      return InetAddress.getByName(address).isLoopbackAddress(); // a literal: no name lookup
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Early, so that the filters after it run as the application's too. */
  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE + 10;
  }

  @Override
  public String toString() {
    return "LifespanServletFilter[" + application.name() + "]";
  }
}

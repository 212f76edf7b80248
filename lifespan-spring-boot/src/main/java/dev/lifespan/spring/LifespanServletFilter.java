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
 * application), keeps the requests in flight for the shutdown's report of what the web server's
 * graceful shutdown waits for, and tells the {@link LifespanEndpoint} whether the client is on the
 * loopback interface and not behind a proxy.
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
    Served served =
        outer != null || !(request instanceof HttpServletRequest http)
            ? null // an inner dispatch (an error page, a forward) of a request already counted
            : new Served(http, application.nanoTime());
    if (served != null) application.requestStarted(served);
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
      if (served != null) application.requestEnded(served);
      if (outer == null) REQUEST.remove();
      else REQUEST.set(outer);
    }
  }

  /** A request in flight, for the shutdown's report. */
  private static final class Served extends LifespanApplication.Request {
    private final ServletRequest request;

    Served(HttpServletRequest request, long since) {
      super(request.getMethod(), request.getRequestURI(), since);
      this.request = request;
    }

    @Override
    String client() {
      try {
        String address = request.getRemoteAddr();
        return address == null ? "" : " from " + address + ":" + request.getRemotePort();
      } catch (RuntimeException e) { // it ended and the server recycled it meanwhile
        return "";
      }
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

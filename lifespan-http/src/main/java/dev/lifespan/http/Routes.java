package dev.lifespan.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The routes of a server: a method and a path pattern, each with a {@link Handler} and optionally
 * its own deadline. Immutable; each {@code add} method returns a copy.
 *
 * {@snippet :
 * Routes routes = Routes.create()
 *     .post("/orders", orders::create)
 *     .get("/orders/{id}", orders::show)
 *     .get("/reports/{day}", Duration.ofSeconds(10), reports::render); // a slow route
 * }
 *
 * <p>A pattern is a path whose segments are literals or {@code {name}} parameters, which match one
 * non-empty segment each ({@link Request#pathParam}). Literal segments win over parameters; among
 * equals, the route added first wins. A path no route matches gets 404; a path that matches only
 * with other methods gets 405 with an {@code Allow} header. {@code /health/live} and {@code
 * /health/ready} are reserved for the server's health endpoints.
 */
public final class Routes {
  /** One route. */
  record Route(
      String method, String pattern, List<String> segments, Duration deadline, Handler handler) {
    /** The parameters if {@code path} matches this route's pattern, else null. */
    Map<String, String> match(List<String> path) {
      if (path.size() != segments.size()) return null;
      Map<String, String> params = null;
      for (int i = 0; i < segments.size(); i++) {
        String s = segments.get(i);
        if (s.startsWith("{")) {
          if (params == null) params = new LinkedHashMap<>(2);
          params.put(s.substring(1, s.length() - 1), path.get(i));
        } else if (!s.equals(path.get(i))) {
          return null;
        }
      }
      return params == null ? Map.of() : params;
    }

    int literals() {
      return (int) segments.stream().filter(s -> !s.startsWith("{")).count();
    }
  }

  private final List<Route> routes;

  /**
   * Routes without parameters, by method and then by canonical path ("/a/b"): a request to such a
   * path is answered by that route (literal segments win), found without splitting the path.
   */
  private final Map<String, Map<String, Route>> literal;

  private Routes(List<Route> routes) {
    this.routes = routes;
    Map<String, Map<String, Route>> byMethod = new HashMap<>();
    for (Route r : routes) {
      if (r.literals() == r.segments.size()) {
        byMethod
            .computeIfAbsent(r.method, m -> new HashMap<>())
            .put("/" + String.join("/", r.segments), r);
      }
    }
    byMethod.replaceAll((m, paths) -> Map.copyOf(paths));
    this.literal = Map.copyOf(byMethod);
  }

  /**
   * The route for {@code method} and {@code path} if a route without parameters has exactly that
   * (canonical) path; else null, and {@link #find} decides.
   */
  Route exact(String method, String path) {
    Map<String, Route> paths = literal.get(method);
    return paths == null ? null : paths.get(path);
  }

  /** No routes yet. */
  public static Routes create() {
    return new Routes(List.of());
  }

  /** A copy with {@code GET pattern}. */
  public Routes get(String pattern, Handler handler) {
    return add("GET", pattern, null, handler);
  }

  /** A copy with {@code GET pattern}, bounded by {@code deadline}. */
  public Routes get(String pattern, Duration deadline, Handler handler) {
    return add("GET", pattern, deadline, handler);
  }

  /** A copy with {@code POST pattern}. */
  public Routes post(String pattern, Handler handler) {
    return add("POST", pattern, null, handler);
  }

  /** A copy with {@code POST pattern}, bounded by {@code deadline}. */
  public Routes post(String pattern, Duration deadline, Handler handler) {
    return add("POST", pattern, deadline, handler);
  }

  /**
   * A copy with a route for {@code method} (upper-case letters) and {@code pattern}; requests to it
   * are cancelled after {@code deadline} (null: the server's default) and answered 503.
   *
   * @throws IllegalArgumentException for a malformed method, pattern or deadline, or a route that
   *     is already there
   */
  public Routes add(String method, String pattern, Duration deadline, Handler handler) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(pattern, "pattern");
    Objects.requireNonNull(handler, "handler");
    if (!method.matches("[A-Z]+")) {
      throw new IllegalArgumentException(
          "HTTP method must be upper-case letters: '" + method + "'");
    }
    if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
      throw new IllegalArgumentException(
          "deadline of " + method + " " + pattern + " must be positive: " + deadline);
    }
    List<String> segments = segments(pattern);
    for (String s : segments) {
      boolean param = s.startsWith("{") || s.endsWith("}");
      if (param && !s.matches("\\{[A-Za-z_][A-Za-z0-9_]*}")) {
        throw new IllegalArgumentException(
            "malformed path parameter '" + s + "' in pattern '" + pattern + "'");
      }
    }
    if (pattern.equals("/health/live") || pattern.equals("/health/ready")) {
      throw new IllegalArgumentException("'" + pattern + "' is the server's health endpoint");
    }
    for (Route r : routes) {
      if (r.method.equals(method) && r.segments.equals(segments)) {
        throw new IllegalArgumentException("route " + method + " " + pattern + " is already there");
      }
    }
    List<Route> copy = new ArrayList<>(routes);
    copy.add(new Route(method, pattern, segments, deadline, handler));
    return new Routes(List.copyOf(copy));
  }

  static List<String> segments(String path) {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path pattern must start with '/': '" + path + "'");
    }
    List<String> out = new ArrayList<>();
    for (String s : path.substring(1).split("/", -1)) {
      if (!s.isEmpty()) out.add(s);
    }
    return out;
  }

  /** The best route for {@code method} and {@code path}, or null; fills {@code allowed}. */
  Route find(String method, List<String> path, Map<String, String> params, Set<String> allowed) {
    Route best = null;
    Map<String, String> bestParams = null;
    for (Route r : routes) {
      Map<String, String> p = r.match(path);
      if (p == null) continue;
      allowed.add(r.method);
      if (r.method.equals(method) && (best == null || r.literals() > best.literals())) {
        best = r;
        bestParams = p;
      }
    }
    if (bestParams != null) params.putAll(bestParams);
    return best;
  }

  /**
   * The {@code Allow} header of a 405 or an {@code OPTIONS} answer: {@code methods} in their order,
   * {@code HEAD} after {@code GET} (a {@code GET} route serves {@code HEAD}), then {@code OPTIONS}.
   */
  static String allow(Set<String> methods) {
    Set<String> all = new LinkedHashSet<>();
    for (String m : methods) {
      all.add(m);
      if (m.equals("GET")) all.add("HEAD");
    }
    all.add("OPTIONS");
    return String.join(", ", all);
  }

  /** The methods of all routes, in the order they were added. */
  Set<String> methods() {
    Set<String> all = new LinkedHashSet<>();
    for (Route r : routes) all.add(r.method);
    return all;
  }

  @Override
  public String toString() {
    return "Routes" + routes.stream().map(r -> r.method + " " + r.pattern).toList();
  }
}

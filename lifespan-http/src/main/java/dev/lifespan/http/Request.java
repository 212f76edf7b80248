package dev.lifespan.http;

import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One request as a {@link Handler} sees it: method, path, the route's path parameters, query
 * parameters, headers and the body, already read (at most the server's body limit). Immutable; safe
 * to hand to other threads.
 */
public final class Request {
  private final String method;
  private final String path;
  private final Map<String, String> params;
  private final Map<String, List<String>> query;
  private final Map<String, List<String>> headers; // by lower-case name
  private final byte[] body;
  private final InetSocketAddress remote;

  Request(
      String method,
      String path,
      Map<String, String> params,
      String rawQuery,
      Map<String, List<String>> headers,
      byte[] body,
      InetSocketAddress remote) {
    this.method = method;
    this.path = path;
    this.params = Map.copyOf(params);
    this.query = parseQuery(rawQuery);
    this.headers = headers;
    this.body = body;
    this.remote = remote;
  }

  /** The method, such as {@code GET}. */
  public String method() {
    return method;
  }

  /** The decoded path, such as {@code /orders/7}. */
  public String path() {
    return path;
  }

  /**
   * The path parameter {@code name} of the route's pattern ({@code /orders/{id}}).
   *
   * @throws IllegalArgumentException if the route's pattern has no such parameter
   */
  public String pathParam(String name) {
    Objects.requireNonNull(name, "name");
    String v = params.get(name);
    if (v == null) {
      throw new IllegalArgumentException(
          "the route of " + method + " " + path + " has no path parameter '" + name + "'");
    }
    return v;
  }

  /** The first value of query parameter {@code name}, if present. */
  public Optional<String> query(String name) {
    Objects.requireNonNull(name, "name");
    List<String> v = query.get(name);
    return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.getFirst());
  }

  /** The first value of header {@code name} (case-insensitive), if present. */
  public Optional<String> header(String name) {
    Objects.requireNonNull(name, "name");
    List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
    return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.getFirst());
  }

  /** The body's bytes (a copy); empty if there was none. */
  public byte[] body() {
    return body.clone();
  }

  /** The body decoded as UTF-8. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  /** The client's address. */
  public InetSocketAddress remoteAddress() {
    return remote;
  }

  @Override
  public String toString() {
    return "Request[" + method + " " + path + "]";
  }

  private static Map<String, List<String>> parseQuery(String raw) {
    if (raw == null || raw.isEmpty()) return Map.of();
    Map<String, List<String>> out = new java.util.LinkedHashMap<>();
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) continue;
      int eq = pair.indexOf('=');
      String k = decode(eq < 0 ? pair : pair.substring(0, eq));
      String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
      out.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v);
    }
    return out;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new HttpException(400, "malformed query parameter: " + s);
    }
  }
}

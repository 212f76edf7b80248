package dev.lifespan.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Route matching: literals over parameters, the exact-path fast path, 404 versus 405. */
class RoutesTest {
  private static final Handler OK = r -> Response.empty(204);

  private final Routes routes =
      Routes.create()
          .get("/orders/{id}", OK)
          .get("/orders/recent", OK)
          .post("/orders", OK)
          .get("/", OK)
          .add("PUT", "/orders/{id}", Duration.ofSeconds(1), OK);

  private Routes.Route find(String method, String path, Map<String, String> params) {
    Routes.Route exact = routes.exact(method, path);
    Routes.Route found = routes.find(method, Routes.segments(path), params, new LinkedHashSet<>());
    if (exact != null) assertEquals(found, exact, "the fast path agrees with the scan");
    return found;
  }

  @Test
  void aLiteralPathIsFoundExactlyAndWinsOverAParameter() {
    Map<String, String> params = new HashMap<>();
    Routes.Route r = find("GET", "/orders/recent", params);
    assertEquals("/orders/recent", r.pattern());
    assertEquals(Map.of(), params);
    assertEquals("/orders/recent", routes.exact("GET", "/orders/recent").pattern());
    assertEquals("/", routes.exact("GET", "/").pattern());
  }

  @Test
  void aNonCanonicalPathMissesTheFastPathButTheScanMatchesIt() {
    assertNull(routes.exact("GET", "/orders/recent/"));
    assertEquals("/orders/recent", find("GET", "/orders/recent/", new HashMap<>()).pattern());
  }

  @Test
  void parametersAreNeverTakenByTheFastPath() {
    assertNull(routes.exact("GET", "/orders/7"));
    Map<String, String> params = new HashMap<>();
    assertEquals("/orders/{id}", find("GET", "/orders/7", params).pattern());
    assertEquals(Map.of("id", "7"), params);
  }

  @Test
  void anotherMethodIsA405WithTheAllowedOnesAndAnUnknownPathA404() {
    Set<String> allowed = new LinkedHashSet<>();
    assertNull(routes.exact("DELETE", "/orders"));
    assertNull(routes.find("DELETE", Routes.segments("/orders/7"), new HashMap<>(), allowed));
    assertEquals("GET, HEAD, PUT, OPTIONS", Routes.allow(allowed));
    Set<String> none = new LinkedHashSet<>();
    assertNull(routes.find("GET", Routes.segments("/customers"), new HashMap<>(), none));
    assertEquals(Set.of(), none);
  }

  @Test
  void badRoutesAreRefusedNamingTheValue() {
    assertEquals(
        "route GET /orders/recent is already there",
        assertThrows(IllegalArgumentException.class, () -> routes.get("/orders/recent", OK))
            .getMessage());
    assertEquals(
        "HTTP method must be upper-case letters: 'get'",
        assertThrows(IllegalArgumentException.class, () -> routes.add("get", "/x", null, OK))
            .getMessage());
    assertEquals(
        "malformed path parameter '{1d}' in pattern '/x/{1d}'",
        assertThrows(IllegalArgumentException.class, () -> routes.get("/x/{1d}", OK)).getMessage());
    assertEquals(List.of("a", "b"), Routes.segments("//a/b/"));
  }
}

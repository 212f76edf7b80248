package dev.lifespan.spring;

import java.util.Objects;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.WebServerNamespace;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * The Actuator endpoint {@code lifespan} ({@code GET /actuator/lifespan}): the Lifespan
 * application's task dump as JSON, with every task's stack trace.
 *
 * <pre>
 * {"application": "orders", "state": "READY", "springReadiness": "ACCEPTING_TRAFFIC",
 *  "dump": {"takenAt": "...", "stackTraces": true, "roots": [ ...TaskDump.toJson()... ]}}
 * </pre>
 *
 * <p>Stack traces tell an attacker much, so it is served only where an operator stands:
 *
 * <ul>
 *   <li>on the management port ({@code management.server.port} set apart from {@code server.port}),
 *       to whoever reaches that port: keep it off the public network;
 *   <li>on the main port, only to a client on the loopback interface ({@code 127.0.0.1}, {@code
 *       ::1}; {@code kubectl port-forward} and {@code curl} inside the pod are such clients) whose
 *       request carries no {@code Forwarded}, {@code X-Forwarded-For} or {@code X-Real-IP} header,
 *       which a proxy on the same host (a sidecar) adds to what it forwards. Every other request
 *       gets 404, as if the endpoint did not exist. The starter's servlet filter tells the client's
 *       address to the endpoint, so on the main port it answers only in servlet applications.
 * </ul>
 *
 * Like every Actuator endpoint, it is served over HTTP only when exposed: {@code
 * management.endpoints.web.exposure.include=health,lifespan}.
 */
@WebEndpoint(id = "lifespan")
public final class LifespanEndpoint {
  private final LifespanApplication application;

  /** The endpoint of {@code application}. */
  public LifespanEndpoint(LifespanApplication application) {
    this.application = Objects.requireNonNull(application, "application");
  }

  /**
   * The dump as JSON, or 404 where it is not served (see the class description).
   *
   * @param namespace the server that received the request: the main one or the management one
   */
  @ReadOperation(produces = "application/json")
  public WebEndpointResponse<String> dump(WebServerNamespace namespace) {
    if (!WebServerNamespace.MANAGEMENT.equals(namespace) && !LifespanServletFilter.fromLoopback()) {
      return new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND);
    }
    return new WebEndpointResponse<>(json(), WebEndpointResponse.STATUS_OK);
  }

  /** The dump's JSON, wherever asked. */
  String json() {
    var app = application.app();
    var spring = application.springReadiness();
    return "{\"application\":"
        + quote(application.name())
        + ",\"state\":"
        + quote(app.state().name())
        + ",\"springReadiness\":"
        + (spring.isPresent() ? quote(spring.get().name()) : "null")
        + ",\"dump\":"
        + application.dump(true).toJson()
        + "}";
  }

  static String quote(String s) {
    var sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c)) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}

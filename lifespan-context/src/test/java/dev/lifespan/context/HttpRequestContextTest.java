package dev.lifespan.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.TaskGroup;
import dev.lifespan.http.HttpApp;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.http.Response;
import dev.lifespan.http.Routes;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.integration.Slf4jThreadLocalAccessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** lifespan-http's request handlers, over a real socket, see the context carried to them. */
class HttpRequestContextTest {
  private static final Duration WAIT = Duration.ofSeconds(30); // bounded waits; never reached

  private final LogLines logs = new LogLines("http");

  @AfterEach
  void cleanUp() {
    logs.close();
    MDC.clear();
  }

  @Test
  void aHandlerAndTheTasksItSpawnsLogTheMdcOfTheThreadThatStartedTheServer() throws Exception {
    ContextRegistry.getInstance().registerThreadLocalAccessor(new Slf4jThreadLocalAccessor());
    Routes routes =
        Routes.create()
            .get(
                "/orders/{id}",
                req -> {
                  logs.log.info("handler");
                  MDC.put("requestId", req.header("X-Request-Id").orElse("none"));
                  try {
                    TaskGroup.run(g -> g.spawn(() -> logs.log.info("lookup")));
                  } finally {
                    MDC.remove("requestId");
                  }
                  return Response.text(200, "order " + req.pathParam("id"));
                });
    MDC.put("service", "orders");
    HttpApp http;
    try {
      http =
          HttpApp.start(
              App.Options.named("orders")
                  .withContextPropagator(MicrometerContext.propagator())
                  .withProgress(line -> {}),
              Lifespan.of(),
              HttpOptions.defaults().withHost("127.0.0.1").withPort(0),
              routes);
    } finally {
      MDC.remove("service");
    }
    try {
      assertTrue(http.awaitReady());
      try (HttpClient client = HttpClient.newHttpClient()) {
        HttpResponse<String> response =
            client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/orders/7"))
                    .header("X-Request-Id", "r-60")
                    .timeout(WAIT)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertEquals("order 7", response.body());
      }
    } finally {
      http.app().requestShutdown();
      http.app().await(WAIT);
    }
    assertEquals("requestId= service=orders", prefix(logs.line("handler")));
    assertEquals("requestId=r-60 service=orders", prefix(logs.line("lookup")));
  }

  private static String prefix(String line) {
    return line.substring(0, line.indexOf(" ["));
  }
}

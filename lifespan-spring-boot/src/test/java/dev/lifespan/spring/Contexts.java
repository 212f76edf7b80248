package dev.lifespan.spring;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;

/** Starting the test application in-process, and talking HTTP to it on loopback. */
final class Contexts {
  private Contexts() {}

  /** A web application (Tomcat unless a factory bean says otherwise) on a free port. */
  static ConfigurableApplicationContext web(
      Consumer<GenericApplicationContext> beans, String... properties) {
    return start(WebApplicationType.SERVLET, beans, properties);
  }

  /** An application without a web server. */
  static ConfigurableApplicationContext plain(
      Consumer<GenericApplicationContext> beans, String... properties) {
    return start(WebApplicationType.NONE, beans, properties);
  }

  static ConfigurableApplicationContext start(
      WebApplicationType type, Consumer<GenericApplicationContext> beans, String... properties) {
    List<String> all = new ArrayList<>();
    all.add("server.port=0");
    all.add("spring.main.banner-mode=off");
    all.add("logging.level.root=WARN");
    all.add("management.endpoints.web.exposure.include=health,lifespan");
    all.add("management.endpoint.health.probes.enabled=true");
    all.addAll(List.of(properties));
    return new SpringApplicationBuilder(TestApp.class)
        .web(type)
        .registerShutdownHook(false)
        .initializers(c -> beans.accept((GenericApplicationContext) c))
        .properties(all.toArray(String[]::new))
        .run();
  }

  static SpringApplication application() {
    return new SpringApplication(TestApp.class);
  }

  static int port(ConfigurableApplicationContext context) {
    return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
  }

  static HttpResponse<String> get(int port, String path, String... headers)
      throws IOException, InterruptedException {
    var request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30));
    if (headers.length > 0) request.headers(headers);
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(20)).build()) {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
  }
}

package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.Supervisor;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The task dump as the Actuator endpoint, and where it is served. */
class EndpointTest {

  @Test
  void theTaskDumpIsServedAsJsonToALoopbackClient() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (var context = Contexts.web(c -> {}, "lifespan.name=dumped")) {
      Supervisor supervisor = context.getBean(LifespanApplication.class).supervisor();
      supervisor.spawn("visible task", release::await);
      var response = Contexts.get(Contexts.port(context), "/actuator/lifespan");
      release.countDown();
      assertEquals(200, response.statusCode(), response.body());
      assertTrue(
          response.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
          response.headers().toString());
      String body = response.body();
      assertTrue(
          body.startsWith(
              "{\"application\":\"dumped\",\"state\":\"READY\","
                  + "\"springReadiness\":\"ACCEPTING_TRAFFIC\",\"dump\":{"),
          body);
      assertTrue(body.contains("\"kind\":\"layer\",\"name\":\"spring\""), body);
      assertTrue(body.contains("\"name\":\"visible task\""), body);
      assertTrue(body.contains("\"stackTrace\":["), body);
    }
  }

  @Test
  void aRequestForwardedByAProxyOnTheSameHostGets404() throws Exception {
    try (var context = Contexts.web(c -> {})) {
      int port = Contexts.port(context);
      for (String header : new String[] {"X-Forwarded-For", "Forwarded", "X-Real-IP"}) {
        var response =
            Contexts.get(
                port,
                "/actuator/lifespan",
                header,
                header.equals("Forwarded") ? "for=203.0.113.7" : "203.0.113.7");
        assertEquals(404, response.statusCode(), header + ": " + response.body());
      }
      assertEquals(200, Contexts.get(port, "/actuator/lifespan").statusCode());
    }
  }

  @Test
  void onTheManagementPortItIsServedToEveryClient() throws Exception {
    // Tomcat and Jetty are both on the tests' class path: both make a management context factory
    try (var context =
        Contexts.web(
            c -> WebShutdownTest.server(c, "tomcat"),
            "management.server.port=0",
            "spring.main.allow-bean-definition-overriding=true")) {
      int management =
          Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
      var response =
          Contexts.get(management, "/actuator/lifespan", "X-Forwarded-For", "203.0.113.7");
      assertEquals(200, response.statusCode(), response.body());
      assertTrue(response.body().contains("\"dump\":{"), response.body());
      // and not on the main port at all
      assertEquals(404, Contexts.get(Contexts.port(context), "/actuator/lifespan").statusCode());
    }
  }

  @Test
  void aReadinessChangeOfTheApplicationShowsInTheDump() throws Exception {
    try (var context = Contexts.web(c -> {})) {
      org.springframework.boot.availability.AvailabilityChangeEvent.publish(
          context, org.springframework.boot.availability.ReadinessState.REFUSING_TRAFFIC);
      var body = Contexts.get(Contexts.port(context), "/actuator/lifespan").body();
      assertTrue(
          body.contains("\"state\":\"READY\",\"springReadiness\":\"REFUSING_TRAFFIC\""), body);
      assertEquals(
          503, Contexts.get(Contexts.port(context), "/actuator/health/readiness").statusCode());
    }
  }
}

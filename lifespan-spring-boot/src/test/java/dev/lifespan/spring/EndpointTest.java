package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.Supervisor;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The task dump as the Actuator endpoint, and where it is served. The tests on the main port share
 * one application context, started once; the readiness change comes last.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndpointTest {
  private ConfigurableApplicationContext context;

  @BeforeAll
  void start() {
    context = Contexts.web(c -> {}, "lifespan.name=dumped");
  }

  @AfterAll
  void stop() {
    context.close();
  }

  @Test
  @Order(1)
  void theTaskDumpIsServedAsJsonToALoopbackClient() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    {
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
  @Order(2)
  void aRequestForwardedByAProxyOnTheSameHostGets404() throws Exception {
    {
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
  @Order(3)
  void onTheManagementPortItIsServedToEveryClient() throws Exception {
    // Tomcat and Jetty are both on the tests' class path: both make a management context factory
    try (var separate =
        Contexts.web(
            c -> WebShutdownTest.server(c, "tomcat"),
            "management.server.port=0",
            "spring.main.allow-bean-definition-overriding=true")) {
      int management =
          Integer.parseInt(separate.getEnvironment().getProperty("local.management.port"));
      var response =
          Contexts.get(management, "/actuator/lifespan", "X-Forwarded-For", "203.0.113.7");
      assertEquals(200, response.statusCode(), response.body());
      assertTrue(response.body().contains("\"dump\":{"), response.body());
      // and not on the main port at all
      assertEquals(404, Contexts.get(Contexts.port(separate), "/actuator/lifespan").statusCode());
    }
  }

  @Test
  @Order(4)
  void aReadinessChangeOfTheApplicationShowsInTheDump() throws Exception {
    {
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

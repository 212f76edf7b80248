package dev.lifespan.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.ApplicationRunner;
import org.springframework.context.ConfigurableApplicationContext;

/** LifespanLocal values per application context. */
class LocalsTest {

  static ConfigurableApplicationContext named(String name) {
    return Contexts.web(
        c ->
            c.registerBean(
                "setLocal",
                ApplicationRunner.class,
                () ->
                    args ->
                        c.getBean(LifespanApplication.class).run(() -> TestApp.LOCAL.set(name))),
        "lifespan.name=" + name);
  }

  @Test
  void twoContextsInOneJvmSeeTheirOwnValuesInRequestsAndAsyncTasks() throws Exception {
    try (var a = named("first");
        var b = named("second")) {
      assertEquals("first first", Contexts.get(Contexts.port(a), "/local").body());
      assertEquals("second second", Contexts.get(Contexts.port(b), "/local").body());
      for (var context : new ConfigurableApplicationContext[] {a, b}) {
        var seen = new CompletableFuture<String>();
        context.getBean(TestApp.Work.class).mustFinish(() -> seen.complete(TestApp.LOCAL.get()));
        assertEquals(
            context.getBean(LifespanApplication.class).name(), seen.get(30, TimeUnit.SECONDS));
      }
    }
  }
}

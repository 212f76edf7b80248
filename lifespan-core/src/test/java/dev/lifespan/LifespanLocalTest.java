package dev.lifespan;

import static dev.lifespan.AppFixtures.options;
import static dev.lifespan.AppFixtures.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lifespan.AppFixtures.Progress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Per-application values: isolation, carrying into tasks and foreign executors, errors. */
class LifespanLocalTest {
  private static final LifespanLocal<String> TENANT = LifespanLocal.named("tenant");
  private final Progress progress = new Progress();
  private final ExecutorService foreign = Executors.newFixedThreadPool(2);

  @AfterEach
  void stopPool() throws InterruptedException {
    foreign.shutdownNow();
    assertTrue(foreign.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES));
  }

  private static Lifespan tenant(String value) {
    return Lifespan.named(
        "tenant",
        ctx -> {
          TENANT.set(value);
          ctx.proceed();
          assertEquals(value, TENANT.get(), "still readable during teardown");
        });
  }

  @Test
  void eachApplicationSeesItsOwnValueInEveryKindOfTask() throws Exception {
    Map<String, List<String>> seen = new ConcurrentHashMap<>();
    CountDownLatch bothStarted = new CountDownLatch(2);
    App[] apps = new App[2];
    for (int i = 0; i < 2; i++) {
      String name = "app-" + i;
      List<String> mine = new CopyOnWriteArrayList<>();
      seen.put(name, mine);
      apps[i] =
          App.start(
              options(name, progress),
              Lifespan.of(
                  tenant(name),
                  Lifespan.named(
                      "layer-task",
                      ctx -> {
                        ctx.supervisor().fork("layer-task", () -> mine.add(TENANT.get())).join();
                        ctx.proceed();
                      })),
              () -> {
                bothStarted.countDown();
                bothStarted.await(); // both applications run at the same time
                mine.add(TENANT.get());
                TaskGroup.run(
                    "group",
                    g -> {
                      g.fork(() -> mine.add(TENANT.get()));
                      g.fork(
                          () ->
                              TaskGroup.call(
                                  "nested", h -> h.fork(() -> mine.add(TENANT.get())).join()));
                    });
                Supervisor.background().fork("background", () -> mine.add(TENANT.get())).join();
                Supervisor.run(
                    Supervisor.Options.named("own"),
                    s -> s.fork("own", () -> mine.add(TENANT.get())).join());
                foreign.submit(LifespanLocal.wrap(() -> mine.add(TENANT.get()))).get();
                CompletableFuture.supplyAsync(
                        LifespanLocal.wrapSupplier(() -> mine.add(TENANT.get())), foreign)
                    .get();
                foreign
                    .submit(LifespanLocal.wrap((Callable<Boolean>) () -> mine.add(TENANT.get())))
                    .get();
                CompletableFuture.runAsync(
                        () -> mine.add(TENANT.get()),
                        LifespanLocal.wrap((java.util.concurrent.Executor) foreign))
                    .get();
              });
    }
    for (App app : apps) assertEquals(App.Outcome.SUCCEEDED, result(app).outcome());
    for (int i = 0; i < 2; i++) {
      String name = "app-" + i;
      assertEquals(
          List.of(name, name, name, name, name, name, name, name, name, name), seen.get(name));
    }
  }

  @Test
  void readingOutsideAnyApplicationSaysSo() {
    var e = assertThrows(IllegalStateException.class, TENANT::get);
    assertTrue(
        e.getMessage().startsWith("LifespanLocal 'tenant' read outside any running application"),
        e.getMessage());
    assertFalse(TENANT.isSet());
    e = assertThrows(IllegalStateException.class, () -> TENANT.set("x"));
    assertTrue(e.getMessage().startsWith("LifespanLocal 'tenant' set outside"), e.getMessage());
    e = assertThrows(IllegalStateException.class, () -> LifespanLocal.wrap(() -> {}));
    assertTrue(e.getMessage().contains("belongs to no running application"), e.getMessage());
    // a wrapped executor outside any application runs the command without one
    AtomicReference<Boolean> set = new AtomicReference<>();
    LifespanLocal.wrap((java.util.concurrent.Executor) Runnable::run)
        .execute(() -> set.set(TENANT.isSet()));
    assertFalse(set.get());
  }

  @Test
  void readingAfterTheApplicationEndedSaysSo() throws Exception {
    AtomicReference<Runnable> later = new AtomicReference<>();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    result(
        App.start(
            options("ended", progress),
            tenant("x"),
            () ->
                later.set(
                    LifespanLocal.wrap(
                        () -> {
                          try {
                            TENANT.get();
                          } catch (IllegalStateException e) {
                            thrown.set(e);
                          }
                        }))));
    later.get().run();
    assertEquals(
        "LifespanLocal 'tenant' read after application 'ended' ended", thrown.get().getMessage());
  }

  @Test
  void aVariableWithoutAValueSaysSoAndAnInitialValueIsComputedOncePerApplication()
      throws Exception {
    AtomicInteger computed = new AtomicInteger();
    LifespanLocal<Integer> cache = LifespanLocal.withInitial("cache", computed::incrementAndGet);
    LifespanLocal<String> unset = LifespanLocal.named("unset");
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    List<Integer> values = new CopyOnWriteArrayList<>();
    for (String name : List.of("one", "two")) {
      result(
          App.start(
              options(name, progress),
              Lifespan.of(),
              () -> {
                assertFalse(cache.isSet());
                TaskGroup.run(
                    "readers",
                    g -> {
                      for (int i = 0; i < 10; i++) g.spawn(() -> values.add(cache.get()));
                    });
                assertTrue(cache.isSet());
                try {
                  unset.get();
                } catch (IllegalStateException e) {
                  thrown.set(e);
                }
                cache.remove();
                assertFalse(cache.isSet());
              }));
    }
    assertEquals(2, computed.get(), "once per application");
    assertEquals(10, values.stream().filter(v -> v == 1).count());
    assertEquals(10, values.stream().filter(v -> v == 2).count());
    assertEquals(
        "LifespanLocal 'unset' has no value in application 'two'", thrown.get().getMessage());
  }

  @Test
  void nullValuesAreRefusedNamingTheVariable() throws Exception {
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    result(
        App.start(
            options("nulls", progress),
            Lifespan.of(),
            () -> {
              try {
                TENANT.set(null);
              } catch (NullPointerException e) {
                thrown.set(e);
              }
            }));
    assertEquals("value of LifespanLocal 'tenant'", thrown.get().getMessage());
    assertEquals("LifespanLocal[tenant]", TENANT.toString());
  }
}

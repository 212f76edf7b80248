package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;

/**
 * Every public method and constructor of the API, called with null in each reference parameter (one
 * at a time, the others valid), throws {@link NullPointerException} whose message names the
 * parameter — except the parameters documented as nullable.
 */
class NullArgumentTest {
  /** Parameters documented to accept null: "Type.method#index". */
  private static final Set<String> NULLABLE =
      Set.of(
          "TaskGroup.run#1", // threadFactory: null means virtual threads
          "TaskGroup.call#1",
          "Started.started#0", // the reported value
          "SupervisorFailedException.<init>#2", // the cause may be unknown
          "App.start#2", // the main body: null serves until shutdown
          "App.runAndExit#2",
          "Result.<init>#3", // no failure
          "Owner.<init>#0" // a LifespanObserver.Owner outside of an application
          );

  private static final Map<Class<?>, Object> VALUES =
      Map.ofEntries(
          Map.entry(String.class, "x"),
          Map.entry(Duration.class, Duration.ofMinutes(1)),
          Map.entry(Instant.class, Instant.now().plusSeconds(3600)),
          Map.entry(CancelScope.Options.class, CancelScope.Options.DEFAULT),
          Map.entry(ScopedRunnable.class, (ScopedRunnable<Object, RuntimeException>) s -> {}),
          Map.entry(
              ScopedCallable.class, (ScopedCallable<Object, Object, RuntimeException>) s -> null),
          Map.entry(Callable.class, (Callable<Object>) () -> null),
          Map.entry(CheckedRunnable.class, (CheckedRunnable) () -> {}),
          Map.entry(Startable.class, (Startable<Object>) Started::started),
          Map.entry(ThreadFactory.class, Thread.ofVirtual().factory()),
          Map.entry(Throwable.class, new RuntimeException("cause")),
          Map.entry(Supervisor.Options.class, Supervisor.Options.named("x")),
          Map.entry(
              Supervisor.FailureHandler.class, (Supervisor.FailureHandler) (task, failure) -> {}),
          Map.entry(ServiceSpec.class, ServiceSpec.of("svc", () -> {})),
          Map.entry(ServiceSpec.Restart.class, ServiceSpec.Restart.TRANSIENT),
          Map.entry(List.class, List.of()),
          Map.entry(Lifespan.class, (Lifespan) Lifespan.Context::proceed),
          Map.entry(Lifespan[].class, new Lifespan[0]),
          Map.entry(Runnable.class, (Runnable) () -> {}),
          Map.entry(java.util.function.Supplier.class, (java.util.function.Supplier<?>) () -> "x"),
          Map.entry(
              java.util.concurrent.Executor.class, (java.util.concurrent.Executor) Runnable::run),
          Map.entry(java.util.function.Consumer.class, (java.util.function.Consumer<?>) x -> {}),
          Map.entry(App.Options.class, App.Options.named("x")),
          Map.entry(App.Outcome.class, App.Outcome.SUCCEEDED),
          Map.entry(App.Signal.class, App.Signal.TERM),
          Map.entry(LifespanObserver.Owner.Kind.class, LifespanObserver.Owner.Kind.SUPERVISOR),
          Map.entry(int.class, 0),
          Map.entry(boolean.class, false));

  private final List<String> checked = new ArrayList<>();

  @Test
  void staticEntryPoints() throws Exception {
    sweepStatics(CancelScope.class);
    sweepStatics(TaskGroup.class);
    sweepStatics(CancelScope.Options.class);
    sweepStatics(Supervisor.class);
    sweepStatics(Supervisor.Options.class);
    sweepStatics(Lifespan.class);
    sweepStatics(LifespanLocal.class);
    sweepStatics(App.class);
    sweepStatics(App.Options.class);
    sweepStatics(LifespanObserver.class);
    assertTrue(checked.size() > 20, "swept " + checked);
    assertTrue(checked.contains("App.runAndExit#1"), "swept " + checked);
  }

  @Test
  void instances() throws Exception {
    sweep(CancelScope.Options.DEFAULT, CancelScope.Options.class);
    CancelScope.run(s -> sweep(s, CancelScope.class));
    TaskGroup.run(
        g -> {
          sweep(g, TaskGroup.class);
          Task<String> t = g.fork(() -> "done");
          t.join();
          sweep(t, Task.class);
        });
    CountDownLatch reported = new CountDownLatch(1);
    TaskGroup.run(
        g ->
            g.start(
                "starter",
                started -> {
                  sweep(started, Started.class);
                  started.started(null);
                  reported.countDown();
                }));
    reported.await();
    sweep(Supervisor.Options.named("x"), Supervisor.Options.class);
    try (Supervisor sup = Supervisor.open("swept")) {
      sweep(sup, Supervisor.class);
    }
    sweep(App.Options.named("x"), App.Options.class);
    sweep(LifespanLocal.named("x"), LifespanLocal.class);
    App app = App.start(App.Options.named("swept").withProgress(line -> {}), Lifespan.of(), null);
    sweep(app, App.class);
    app.requestShutdown();
    app.await();
    assertTrue(checked.contains("Task.cancelAndWait#0"), "swept " + checked);
    assertTrue(checked.contains("App.signal#0"), "swept " + checked);
    assertTrue(checked.contains("Options.withObserver#0"), "swept " + checked);
  }

  @Test
  void exceptionConstructors() throws Exception {
    for (Class<?> c :
        List.of(
            CancelledException.class,
            TaskFailedException.class,
            SupervisorFailedException.class,
            ShutdownReport.class,
            ShutdownReport.Straggler.class,
            StartupFailedException.class,
            ShutdownFailedException.class,
            App.Result.class,
            LifespanObserver.Owner.class)) {
      for (Constructor<?> k : c.getConstructors()) check(null, k);
    }
  }

  private void sweepStatics(Class<?> type) throws Exception {
    for (Method m : type.getMethods()) {
      if (Modifier.isStatic(m.getModifiers()) && m.getDeclaringClass() == type) check(null, m);
    }
  }

  private void sweep(Object receiver, Class<?> type) throws Exception {
    for (Method m : type.getMethods()) {
      if (!Modifier.isStatic(m.getModifiers())
          && m.getDeclaringClass() != Object.class
          && !isEquals(m)) { // a record's equals: null is unequal, by Object's contract
        check(receiver, m);
      }
    }
  }

  private static boolean isEquals(Method m) {
    return m.getName().equals("equals") && Arrays.equals(m.getParameterTypes(), OBJECT);
  }

  private static final Class<?>[] OBJECT = {Object.class};

  private void check(Object receiver, Executable e) throws Exception {
    Class<?>[] types = e.getParameterTypes();
    for (int i = 0; i < types.length; i++) {
      String id = e.getDeclaringClass().getSimpleName() + "." + simpleName(e) + "#" + i;
      if (types[i].isPrimitive() || NULLABLE.contains(id)) continue;
      Object[] args = new Object[types.length];
      for (int j = 0; j < types.length; j++) {
        if (j != i) args[j] = value(types[j], id);
      }
      try {
        if (e instanceof Method m) m.invoke(receiver, args);
        else ((Constructor<?>) e).newInstance(args);
        fail(id + " accepted null");
      } catch (InvocationTargetException thrown) {
        Throwable cause = thrown.getCause();
        if (!(cause instanceof NullPointerException npe)) {
          throw new AssertionError(id + " threw " + cause + " instead of NPE", cause);
        }
        assertNotNull(npe.getMessage(), id + ": NPE without the parameter's name");
      }
      checked.add(id);
    }
  }

  private static String simpleName(Executable e) {
    return e instanceof Constructor ? "<init>" : e.getName();
  }

  private static Object value(Class<?> type, String id) {
    Object v = VALUES.get(type);
    if (v == null) throw new AssertionError("no sample value of " + type + " for " + id);
    return v;
  }
}

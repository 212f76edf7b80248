package dev.lifespan.context;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lifespan.ContextPropagator;
import dev.lifespan.TaskFailedException;
import dev.lifespan.TaskGroup;
import io.micrometer.context.ContextRegistry;
import io.micrometer.context.ThreadLocalAccessor;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Accessors that throw: the order of sets and restores, and what the task and spawner see. */
class AccessorFailuresTest {
  private final List<String> calls = new CopyOnWriteArrayList<>();

  /** An accessor of a thread local of its own that records its calls, and can throw in one. */
  private final class Recording implements ThreadLocalAccessor<String> {
    final ThreadLocal<String> local = new ThreadLocal<>();
    final String key;
    final String failIn;

    Recording(String key, String failIn) {
      this.key = key;
      this.failIn = failIn;
    }

    private void call(String what) {
      calls.add(key + "." + what);
      if (what.startsWith(failIn)) throw new IllegalStateException(key + " " + what + " failed");
    }

    @Override
    public Object key() {
      return key;
    }

    @Override
    public String getValue() {
      return local.get();
    }

    @Override
    public void setValue(String value) {
      call("set " + value);
      local.set(value);
    }

    @Override
    public void setValue() {
      call("clear");
      local.remove();
    }

    @Override
    public void restore(String previous) {
      call("restore " + previous);
      local.set(previous);
    }

    @Override
    public void restore() {
      call("restore");
      local.remove();
    }
  }

  @Test
  void aSetThatThrowsFailsTheTaskBeforeItsBodyAndPutsBackWhatWasSetBeforeIt() {
    Recording a = new Recording("a", "none");
    Recording b = new Recording("b", "set");
    ContextRegistry registry =
        new ContextRegistry().registerThreadLocalAccessor(a).registerThreadLocalAccessor(b);
    a.local.set("1");
    b.local.set("2");
    TaskFailedException failed;
    try (var r = ContextPropagator.register(MicrometerContext.propagator(registry))) {
      failed =
          assertThrows(
              TaskFailedException.class,
              () -> TaskGroup.run(g -> g.spawn(() -> calls.add("body"))));
    } finally {
      a.local.remove();
      b.local.remove();
    }
    assertEquals("b set 2 failed", failed.getCause().getMessage());
    assertEquals(List.of("a.set 1", "b.set 2", "a.restore"), calls);
  }

  @Test
  void aRestoreThatThrowsDoesNotKeepTheOthersFromBeingRestored() throws Exception {
    Recording a = new Recording("a", "none");
    Recording b = new Recording("b", "restore");
    ContextRegistry registry =
        new ContextRegistry().registerThreadLocalAccessor(a).registerThreadLocalAccessor(b);
    ContextPropagator.Snapshot snapshot;
    a.local.set("1");
    b.local.set("2");
    try {
      snapshot = MicrometerContext.propagator(registry).capture();
    } finally {
      a.local.remove();
      b.local.remove();
    }
    ContextPropagator.Restored restored = snapshot.restore(); // on this thread, now empty
    calls.add("body");
    IllegalStateException thrown = assertThrows(IllegalStateException.class, restored::close);
    assertEquals("b restore failed", thrown.getMessage());
    assertEquals(List.of("a.set 1", "b.set 2", "body", "b.restore", "a.restore"), calls);
    assertSame(null, a.local.get());
  }
}

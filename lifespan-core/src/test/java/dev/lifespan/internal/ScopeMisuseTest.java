package dev.lifespan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Misuse that the lambda API cannot express, checked on the implementation directly. */
class ScopeMisuseTest {

  @Test
  void enteringTwiceIsRefusedAndLeavesTheScopeClosed() {
    ScopeNode scope = Scopes.nested("once", false);
    scope.runBody(s -> null);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> scope.runBody(s -> null));
    assertEquals("CancelScope 'once' was already entered; a scope is entered once", e.getMessage());
    assertEquals("CancelScope[once, CLOSED]", scope.toString());
    assertEquals(null, Scopes.current());
  }

  @Test
  void closingFromAnotherThreadIsRefusedAndChangesNothing() throws Exception {
    AtomicReference<Throwable> fromOther = new AtomicReference<>();
    ScopeNode scope = Scopes.nested("mine", false);
    scope.runBody(
        s -> {
          Thread other =
              Thread.ofVirtual()
                  .start(
                      () -> {
                        try {
                          s.exit(null);
                        } catch (Throwable t) {
                          fromOther.set(t);
                        }
                      });
          other.join();
          assertSame(s, Scopes.current(), "still the innermost scope of its thread");
          assertEquals("CancelScope[mine, OPEN]", s.toString());
          return null;
        });
    assertEquals(
        "CancelScope 'mine' must be closed by the thread that entered it",
        fromOther.get().getMessage());
  }

  @Test
  void closingOutOfOrderIsRefusedAndChangesNothing() {
    ScopeNode outer = Scopes.nested("outer", false);
    outer.runBody(
        o -> {
          ScopeNode inner = Scopes.nested("inner", false);
          inner.runBody(
              i -> {
                IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> outer.exit(null));
                assertEquals(
                    "CancelScope 'outer' closed out of order; innermost open scope is 'inner'",
                    e.getMessage());
                assertSame(inner, Scopes.current());
                return null;
              });
          assertSame(outer, Scopes.current());
          return null;
        });
  }

  @Test
  void openingAScopeElsewhereThanWhereItWasCreatedIsRefused() {
    ScopeNode created = Scopes.nested("here", false);
    ScopeNode other = Scopes.nested("other", false);
    other.runBody(
        o -> {
          IllegalStateException e =
              assertThrows(IllegalStateException.class, () -> created.runBody(s -> null));
          assertEquals("CancelScope 'here' must be opened where it was created", e.getMessage());
          return null;
        });
    assertEquals("CancelScope[here, NEW]", created.toString());
  }
}

package dev.lifespan.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ChildJvm}: a main class in a child JVM, its output awaited line by line, real signals. */
class ChildJvmTest {

  /** Echoes its arguments, then each line of its input, until "exit N" or a signal ends it. */
  public static final class Echo {
    public static void main(String[] args) throws Exception {
      System.out.println("args " + String.join(",", args));
      System.err.println("on stderr");
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
      for (String l; (l = in.readLine()) != null; ) {
        if (l.startsWith("exit ")) System.exit(Integer.parseInt(l.substring(5)));
        System.out.println("echo " + l);
      }
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  @Test
  void linesOfBothStreamsAreAwaitedInOrderAndTheExitCodeIsReturned() throws Exception {
    try (ChildJvm child = ChildJvm.start(Echo.class, List.of("-Dx=1"), List.of("a", "b"))) {
      child.awaitLine("on stderr");
      child.tell("hello");
      ChildJvm.Line echo = child.awaitLine("echo hello");
      child.assertOrder("args a,b", "echo hello");
      assertEquals(1, child.count("echo"));
      assertTrue(child.has("args a,b"));
      child.assertNoLine("echo bye");
      assertEquals("echo hello", echo.text());
      child.tell("exit 7");
      assertEquals(7, child.awaitExit());
      assertFalse(child.isAlive());
      assertTrue(child.exitedNanos() >= echo.nanos());
    }
  }

  @Test
  void aRealSigtermEndsTheChildWith143() throws Exception {
    try (ChildJvm child = ChildJvm.start(Echo.class, List.of())) {
      child.awaitLine("args ");
      child.signal("TERM");
      assertEquals(143, child.awaitExit());
    }
  }

  @Test
  void failuresNameWhatWasMissingAndShowTheOutput() throws Exception {
    try (ChildJvm child = ChildJvm.start(Echo.class, List.of("only"))) {
      child.awaitLine("on stderr");
      AssertionError e = assertThrows(AssertionError.class, () -> child.line("never"));
      assertTrue(e.getMessage().startsWith("no line containing 'never'; output:"), e.getMessage());
      assertTrue(e.getMessage().contains("  | args only"), e.getMessage());
      e = assertThrows(AssertionError.class, () -> child.assertOrder("on stderr", "args only"));
      assertTrue(e.getMessage().startsWith("expected 'args only' after 'on stderr'"));
      child.tell("exit 0");
      e = assertThrows(AssertionError.class, () -> child.awaitLine("never"));
      assertTrue(e.getMessage().startsWith("no line 'never' before the output ended"));
      assertThrows(IllegalArgumentException.class, () -> child.signal("KILL"));
      assertThrows(IllegalArgumentException.class, () -> child.signal("TERM", 0));
    }
  }

  @Test
  void closeKillsAChildThatStillRuns() throws Exception {
    ChildJvm child = ChildJvm.start(Echo.class, List.of());
    child.awaitLine("args ");
    child.close();
    assertFalse(child.isAlive());
  }
}

package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The README's first command runs this demo; its story must stay true. */
class FirstDemoTest {

  @Test
  void demoTellsItsThreeStories() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    // eight times slower than the demo: a 2 s lookup in a 4 s budget still arrives on a machine
    // so busy that a 100 ms sleep takes 440 ms
    new FirstDemo(new PrintStream(bytes, true, StandardCharsets.UTF_8), 8).run();
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertContains(out, "supplier-a answered");
    assertContains(out, "supplier-b answered");
    assertContains(out, "supplier-c cancelled: the budget ran out");
    assertContains(out, "page rendered with what arrived in time: {a=42.00, b=42.00}");
    assertContains(out, "pricing cancelled because a sibling failed");
    assertContains(out, "shipping cancelled because a sibling failed");
    assertContains(
        out,
        "group failed: Task 'inventory' failed: java.lang.IllegalStateException: warehouse unreachable");
    assertFalse(out.contains("pricing finished"), out);
    assertContains(out, "audit record written (inside the shield)");
    assertContains(out, "done: every task ended");
  }

  private static void assertContains(String out, String expected) {
    assertTrue(out.contains(expected), "expected output to contain '" + expected + "':\n" + out);
  }
}

package dev.lifespan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TaskDumpTest {
  /** Released at the end of each test, ending every task it parked. */
  private final CountDownLatch release = new CountDownLatch(1);

  /** The tree below, with ages replaced by {@code AGE}. */
  private static final String TREE =
      """
      supervisor 'background' RUNNING AGE, 3 tasks
        task 'confirm order 7' RUNNING AGE must-finish
        task 'worker' RUNNING AGE
        task 'batch' RUNNING AGE
          group 'batch-group' OPEN AGE, 2 tasks
            task 'part-1' RUNNING AGE
            task 'part-2' RUNNING AGE
      """;

  /**
   * Runs supervisor 'background' with a must-finish task, an ordinary task, and a task running a
   * group of two, all parked; dumps it once all are parked, then releases them.
   */
  private static TaskDump dumpOfTree(boolean withStackTraces) throws Exception {
    CountDownLatch parked = new CountDownLatch(4);
    CountDownLatch release = new CountDownLatch(1);
    CheckedRunnable park =
        () -> {
          parked.countDown();
          release.await();
        };
    AtomicReference<TaskDump> dump = new AtomicReference<>();
    Supervisor.run(
        Supervisor.Options.named("background"),
        sup -> {
          try {
            sup.spawnMustFinish("confirm order 7", park);
            sup.spawn("worker", park);
            sup.spawn(
                "batch",
                () ->
                    TaskGroup.run(
                        "batch-group",
                        g -> {
                          g.spawn("part-1", park);
                          g.spawn("part-2", park);
                        }));
            parked.await();
            dump.set(TaskDump.of(sup, withStackTraces));
          } finally {
            release.countDown();
          }
        });
    return dump.get();
  }

  private static String withoutAges(String text) {
    return text.replaceAll("\\d+ ms|\\d+\\.\\d s|\\d+ s", "AGE");
  }

  @Test
  void textShowsTheTreeIndentedWithStatesAndFlags() throws Exception {
    TaskDump dump = dumpOfTree(false);
    assertEquals(TREE, withoutAges(dump.toText()));
    assertEquals(dump.toText(), dump.toString());
  }

  @Test
  void jsonParsesToTheSameTree() throws Exception {
    TaskDump dump = dumpOfTree(false);
    Map<?, ?> json = (Map<?, ?>) Json.parse(dump.toJson());
    assertEquals(dump.takenAt().toString(), json.get("takenAt"));
    assertEquals(false, json.get("stackTraces"));
    List<?> roots = (List<?>) json.get("roots");
    assertEquals(1, roots.size());
    Map<?, ?> sup = (Map<?, ?>) roots.get(0);
    assertEquals(
        List.of("kind", "name", "state", "ageMillis", "mustFinish", "cancelled", "children"),
        List.copyOf(sup.keySet()));
    assertEquals("supervisor background RUNNING false", describe(sup));
    List<?> tasks = (List<?>) sup.get("children");
    assertEquals(
        List.of(
            "task confirm order 7 RUNNING true",
            "task worker RUNNING false",
            "task batch RUNNING false"),
        tasks.stream().map(t -> describe((Map<?, ?>) t)).toList());
    Map<?, ?> group = (Map<?, ?>) ((List<?>) ((Map<?, ?>) tasks.get(2)).get("children")).get(0);
    assertEquals("group batch-group OPEN false", describe(group));
    assertEquals(
        List.of("task part-1 RUNNING false", "task part-2 RUNNING false"),
        ((List<?>) group.get("children")).stream().map(t -> describe((Map<?, ?>) t)).toList());
    assertTrue(((BigDecimal) sup.get("ageMillis")).signum() >= 0);
  }

  /** "kind name state mustFinish" of a parsed node. */
  private static String describe(Map<?, ?> node) {
    return Stream.of("kind", "name", "state", "mustFinish")
        .map(k -> String.valueOf(node.get(k)))
        .collect(Collectors.joining(" "));
  }

  @Test
  void stackTracesAreTakenOnlyWhenRequested() throws Exception {
    TaskDump without = dumpOfTree(false);
    assertFalse(without.toText().contains(" at "), without.toText());
    assertFalse(without.toJson().contains("stackTrace\""), without.toJson());
    assertTrue(without.roots().get(0).children().get(1).stackTrace().isEmpty());

    TaskDump with = dumpOfTree(true);
    TaskDump.Node worker = with.roots().get(0).children().get(1);
    assertEquals("worker", worker.name());
    assertTrue(
        worker.stackTrace().stream().anyMatch(e -> e.getMethodName().equals("await")),
        worker.stackTrace().toString());
    List<String> lines = with.toText().lines().toList();
    int at = lines.indexOf(lines.stream().filter(l -> l.contains("'worker'")).findFirst().get());
    assertTrue(lines.get(at + 1).startsWith("      at "), lines.get(at + 1));
    assertEquals(TREE, withoutAges(with.toText()).replaceAll("(?m)^ +at .*\n", ""));

    Map<?, ?> sup =
        (Map<?, ?>) ((List<?>) ((Map<?, ?>) Json.parse(with.toJson())).get("roots")).get(0);
    assertFalse(sup.containsKey("stackTrace"), "only tasks have stack traces");
    Map<?, ?> json = (Map<?, ?>) ((List<?>) sup.get("children")).get(1);
    assertEquals(
        worker.stackTrace().stream().map(StackTraceElement::toString).toList(),
        json.get("stackTrace"));
  }

  @Test
  void captureListsLiveTopLevelOwnersOnly() throws Exception {
    Supervisor.run(Supervisor.Options.named("ended-sup"), sup -> {});
    CountDownLatch parked = new CountDownLatch(1);
    AtomicReference<TaskDump> dump = new AtomicReference<>();
    try (Supervisor open = Supervisor.open("open-sup")) {
      TaskGroup.run(
          "top-group",
          g -> {
            try {
              g.spawn(
                  "inner",
                  () ->
                      TaskGroup.run(
                          "inner-group",
                          ig ->
                              ig.spawn(
                                  "leaf",
                                  () -> {
                                    parked.countDown();
                                    release.await();
                                  })));
              parked.await();
              dump.set(TaskDump.capture(false));
            } finally {
              release.countDown();
            }
          });
      assertEquals(Supervisor.State.RUNNING, open.state());
    }
    List<String> mine =
        dump.get().roots().stream()
            .map(TaskDump.Node::name)
            .filter(List.of("ended-sup", "open-sup", "top-group", "inner-group")::contains)
            .toList();
    assertEquals(
        List.of("open-sup", "top-group"), mine, "oldest first; nested groups are not roots");
    String text = withoutAges(dump.get().toText());
    assertTrue(
        text.contains(
            """
            group 'top-group' OPEN AGE, 1 task
              task 'inner' RUNNING AGE
                group 'inner-group' OPEN AGE, 1 task
                  task 'leaf' RUNNING AGE
            """),
        text);
    assertTrue(text.contains("supervisor 'open-sup' RUNNING AGE, 0 tasks\n"), text);
    assertFalse(
        TaskDump.capture(false).toText().contains("'open-sup'"), "listed until it shuts down");
  }

  @Test
  void aCancelledTaskThatIsStillRunningIsFlagged() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    TaskGroup.run(
        "stubborn-group",
        g -> {
          try {
            Task<Void> t =
                g.spawn("stubborn", Fixtures.ignoresCancellation(started, release, interrupted));
            started.await(); // cancelled before it started, it would never run
            t.cancel();
            interrupted.await();
            TaskDump.Node group =
                TaskDump.capture(false).roots().stream()
                    .filter(n -> n.name().equals("stubborn-group"))
                    .findFirst()
                    .orElseThrow();
            TaskDump.Node task = group.children().get(0);
            assertEquals(
                "stubborn RUNNING true", task.name() + " " + task.state() + " " + task.cancelled());
            assertFalse(group.cancelled(), "a task's cancellation does not reach its group");
          } finally {
            release.countDown();
          }
        });
  }

  @Test
  void ofAShutDownSupervisorIsOneNodeWithoutChildren() {
    Supervisor sup = Supervisor.open("done");
    sup.close();
    TaskDump dump = TaskDump.of(sup, true);
    assertEquals(
        "supervisor 'done' TERMINATED AGE cancelled, 0 tasks\n", withoutAges(dump.toText()));
    assertTrue(dump.withStackTraces());
  }

  @Test
  void namesAreEscapedInJsonAndKeptOnOneLineInText() throws Exception {
    String name = "say \"hi\"\\ \n\ttab \u0001 é 😀 lone \uD800 end";
    CountDownLatch parked = new CountDownLatch(1);
    TaskGroup.run(
        "escapes",
        g -> {
          try {
            g.spawn(
                name,
                () -> {
                  parked.countDown();
                  release.await();
                });
            parked.await();
            TaskDump dump = TaskDump.capture(false);
            String json = dump.toJson();
            assertFalse(json.contains("\n") || json.contains("\uD800"), json);
            Map<?, ?> group =
                ((List<?>) ((Map<?, ?>) Json.parse(json)).get("roots"))
                    .stream()
                        .map(n -> (Map<?, ?>) n)
                        .filter(n -> n.get("name").equals("escapes"))
                        .findFirst()
                        .orElseThrow();
            assertEquals(name, ((Map<?, ?>) ((List<?>) group.get("children")).get(0)).get("name"));
            assertTrue(
                dump.toText()
                    .contains(
                        "  task 'say \"hi\"\\ \\n\\ttab \\u0001 é 😀 lone \uD800 end' RUNNING"),
                dump.toText());
          } finally {
            release.countDown();
          }
        });
  }

  @Test
  void nullArgumentsAreRejected() {
    var e = assertThrows(NullPointerException.class, () -> TaskDump.of(null, false));
    assertEquals("supervisor", e.getMessage());
  }

  /** A minimal JSON parser (RFC 8259): objects, arrays, strings, numbers, literals. */
  private static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    static Object parse(String s) {
      Json p = new Json(s);
      Object v = p.value();
      if (p.i != s.length()) throw new IllegalArgumentException("trailing text at " + p.i);
      return v;
    }

    private Object value() {
      char c = s.charAt(i);
      if (c == '{') {
        Map<String, Object> m = new LinkedHashMap<>();
        i++;
        if (s.charAt(i) == '}') {
          i++;
          return m;
        }
        do {
          String k = string();
          expect(':');
          if (m.put(k, value()) != null) throw new IllegalArgumentException("duplicate " + k);
        } while (s.charAt(i++) == ',');
        if (s.charAt(i - 1) != '}') throw new IllegalArgumentException("expected } at " + i);
        return m;
      }
      if (c == '[') {
        List<Object> l = new ArrayList<>();
        i++;
        if (s.charAt(i) == ']') {
          i++;
          return l;
        }
        do l.add(value());
        while (s.charAt(i++) == ',');
        if (s.charAt(i - 1) != ']') throw new IllegalArgumentException("expected ] at " + i);
        return l;
      }
      if (c == '"') return string();
      for (String lit : List.of("true", "false", "null")) {
        if (s.startsWith(lit, i)) {
          i += lit.length();
          return lit.equals("null") ? null : Boolean.valueOf(lit);
        }
      }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      return new BigDecimal(s.substring(start, i));
    }

    private String string() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      for (char c; (c = s.charAt(i++)) != '"'; ) {
        if (c < 0x20) throw new IllegalArgumentException("raw control character at " + i);
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case 'r' -> sb.append('\r');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case '"', '\\', '/' -> sb.append(e);
          default -> throw new IllegalArgumentException("bad escape \\" + e + " at " + i);
        }
      }
      return sb.toString();
    }

    private void expect(char c) {
      if (s.charAt(i++) != c) throw new IllegalArgumentException("expected " + c + " at " + i);
    }
  }
}

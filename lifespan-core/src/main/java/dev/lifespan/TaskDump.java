package dev.lifespan;

import dev.lifespan.internal.DumpFormat;
import dev.lifespan.internal.Dumper;
import dev.lifespan.internal.SupervisorImpl;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A snapshot of the live supervisors, task groups and tasks, as a tree: what runs inside what, in
 * which state, for how long, and optionally where each task's thread is.
 *
 * {@snippet :
 * System.err.println(TaskDump.capture(true).toText());  // everything live, with stack traces
 * String json = TaskDump.of(background, false).toJson(); // one supervisor, for a status endpoint
 * }
 *
 * <p>{@link #toText()} gives one line per node, indented by depth:
 *
 * <pre>
 * supervisor 'background' RUNNING 4.1 s, 3 tasks
 *   task 'confirm order 7' RUNNING 1.2 s must-finish
 *   task 'metrics-flusher' RUNNING 4.1 s
 *   task 'import' RUNNING 2.0 s
 *     group 'import-batch' OPEN 2.0 s, 2 tasks
 *       task 'import-batch-1' RUNNING 2.0 s
 *       task 'import-batch-2' RUNNING 1.9 s cancelled
 * </pre>
 *
 * <h2>What a dump contains</h2>
 *
 * Three kinds of {@link Node}: supervisors, task groups and tasks. {@link #capture} starts from the
 * <em>top-level</em> owners of the process, oldest first: the supervisors and task groups that no
 * other supervisor or group encloses (opened outside every task, group body and supervisor body),
 * such as the process-wide supervisor of {@link Supervisor#fireAndForget} once it is in use. {@link
 * #of} starts from one supervisor. A supervisor is live from its creation until its shutdown ends;
 * a group from its opening until its body returned and its last task ended.
 *
 * <p>The children of a supervisor or group are its running tasks, in the order they were spawned,
 * followed by the groups and supervisors opened in its body on the owner's own thread (a group run
 * in a group's body, say). The children of a task are the groups and supervisors opened inside it.
 * In both cases the supervisors opened with {@link Supervisor#open} and not yet shut down count as
 * opened where they were opened. Plain {@link CancelScope}s are not nodes: what is opened inside
 * one appears under the task or owner the scope belongs to. Tasks that ended are not listed.
 *
 * <p>A running application is an {@link Kind#APP} node, its running layers {@link Kind#LAYER} nodes
 * nested in order. Under a layer come its supervisor, then the items of durable work that the layer
 * lists ({@link Lifespan.Context#listInDumps}): at most {@value #ENTRIES_LISTED} {@link Kind#ENTRY}
 * nodes and, per state, a {@link Kind#MORE} node counting the items not listed; then the inner
 * layer.
 *
 * <p>Per node: {@link Node#kind() kind}, {@link Node#name() name}, {@link Node#state() state},
 * {@link Node#age() age}, whether it is a {@link Node#mustFinish() must-finish} task, whether a
 * {@link Node#cancelled() cancellation} has reached it, its {@link Node#children() children}, and,
 * if requested, a task's {@link Node#stackTrace() stack trace}. The parent of a node is the node
 * whose children list it.
 *
 * <h2>Consistency</h2>
 *
 * A dump is taken without stopping, pausing or waiting for any task, so it is <em>not</em> an
 * atomic snapshot. Each owner's list of running tasks is read in one pass, without a lock (tasks
 * take none to start and end); everything else is read as the walk reaches it. Every node listed
 * was live at some moment while the dump was taken, but tasks that start or end meanwhile may be
 * missing or still listed (a task that just ended shows its final state), a task's stack trace is
 * taken when the walk reaches it and shows one moment of a moving thread, and ages are measured
 * from one instant, {@link #takenAt()}; a task's age counts from a clock read at most about 10 ms
 * before it was spawned (spawning reads a clock the library keeps, not the system's). Taking a dump
 * is safe from any thread, including a task's own, and never blocks on a task; it costs time
 * proportional to the number of live tasks, plus one stack walk per task when stack traces are
 * requested, plus what the layers' entry sources take (one bounded query each, at most). Items of
 * durable work are read by their layer's source as of when the walk reaches it.
 *
 * @param takenAt when the dump was taken
 * @param withStackTraces whether the tasks' stack traces were requested
 * @param roots the top-level nodes
 */
public record TaskDump(Instant takenAt, boolean withStackTraces, List<Node> roots) {

  /** Validates and copies. */
  public TaskDump {
    Objects.requireNonNull(takenAt, "takenAt");
    roots = List.copyOf(roots);
  }

  /** What a node stands for. */
  public enum Kind {
    /** A running {@link App}. */
    APP,
    /** A {@link Lifespan} layer of an application, running. */
    LAYER,
    /** A {@link Supervisor}. */
    SUPERVISOR,
    /** A {@link TaskGroup}. */
    GROUP,
    /** A {@link Task}. */
    TASK,
    /**
     * An item of durable work that a layer keeps (a journal entry), listed under its layer by the
     * layer's {@link EntrySource}: its name identifies it (a journal's {@code kind/key}), its state
     * is {@code PENDING}, {@code RUNNING} or {@code FAILED}, its age counts from when it was
     * enqueued, or, running, from when this application claimed it.
     */
    ENTRY,
    /**
     * The items of durable work in one state that a layer did not list, so that a dump of a table
     * of 100,000 pending entries stays small: its name is how many they are, in decimal ({@code
     * 99980}), its state theirs, its age that of the oldest of them.
     */
    MORE;

    /**
     * The kind's name as dumps show it: {@code app}, {@code layer}, {@code supervisor}, {@code
     * group}, {@code task}, {@code entry} or {@code more}.
     */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** At most how many {@link Kind#ENTRY} nodes a dump lists under one layer. */
  public static final int ENTRIES_LISTED = 20;

  /**
   * Where a dump finds a layer's items of durable work; see {@link
   * Lifespan.Context#listInDumps(EntrySource)}.
   */
  @FunctionalInterface
  public interface EntrySource {
    /**
     * The items to list under the layer's node, now: at most {@code limit} {@link Kind#ENTRY} nodes
     * ({@link Node#entry}), then, for each state of which some items are not listed, one {@link
     * Kind#MORE} node ({@link Node#more}). A dump keeps the first {@code limit} entry nodes and
     * every more node of the list. Called on the thread that takes the dump, which waits for it:
     * read an in-memory view, or make one bounded query.
     *
     * @param limit at most how many entry nodes to return
     * @throws Exception if the items cannot be read; the dump then leaves them out
     */
    List<Node> entries(int limit) throws Exception;
  }

  /**
   * One node of the tree: an application, a layer, a supervisor, a task group, a task, or an item
   * of durable work.
   *
   * @param kind what the node stands for
   * @param name its name
   * @param state a task's {@link Task#state()} ({@code RUNNING}, or its final state if it ended
   *     while the dump was taken); a supervisor's {@link Supervisor#state()}; a group's {@code
   *     OPEN}, or {@code CLOSED} if it ended while the dump was taken
   * @param age how long it had existed at {@link TaskDump#takenAt()}: a task since it was spawned,
   *     an owner since it was opened
   * @param mustFinish whether it is a task started with {@link Supervisor#spawnMustFinish}
   * @param cancelled whether a cancellation reaches it: its own, or that of an enclosing scope not
   *     behind a shield
   * @param children the nodes inside it (see {@link TaskDump})
   * @param stackTrace a task's stack trace, if requested; otherwise empty
   */
  public record Node(
      Kind kind,
      String name,
      String state,
      Duration age,
      boolean mustFinish,
      boolean cancelled,
      List<Node> children,
      List<StackTraceElement> stackTrace) {

    /** Validates and copies. */
    public Node {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(age, "age");
      children = List.copyOf(children);
      stackTrace = List.copyOf(stackTrace);
    }

    /**
     * A {@link Kind#ENTRY} node: an item of durable work called {@code name}, in {@code state},
     * {@code age} old; negative ages (clocks apart) are zero.
     */
    public static Node entry(String name, String state, Duration age) {
      Objects.requireNonNull(age, "age");
      return new Node(
          Kind.ENTRY,
          name,
          state,
          age.isNegative() ? Duration.ZERO : age,
          false,
          false,
          List.of(),
          List.of());
    }

    /**
     * A {@link Kind#MORE} node: {@code count} items of durable work in {@code state} not listed,
     * the oldest of them {@code oldest} old.
     *
     * @throws IllegalArgumentException if {@code count < 1}
     */
    public static Node more(long count, String state, Duration oldest) {
      if (count < 1) throw new IllegalArgumentException("more count < 1: " + count);
      Objects.requireNonNull(oldest, "oldest");
      return new Node(
          Kind.MORE,
          Long.toString(count),
          state,
          oldest.isNegative() ? Duration.ZERO : oldest,
          false,
          false,
          List.of(),
          List.of());
    }
  }

  /**
   * Takes a dump of everything live in the process: every top-level supervisor and task group, with
   * what runs inside them. See the class description for what is included and how consistent it is.
   *
   * @param withStackTraces whether to take each task's stack trace
   */
  public static TaskDump capture(boolean withStackTraces) {
    Instant at = Instant.now();
    return new TaskDump(at, withStackTraces, Dumper.roots(withStackTraces));
  }

  /**
   * Takes a dump of one supervisor, with what runs inside it. A supervisor that has shut down is a
   * single node without children.
   *
   * @param withStackTraces whether to take each task's stack trace
   */
  public static TaskDump of(Supervisor supervisor, boolean withStackTraces) {
    Objects.requireNonNull(supervisor, "supervisor");
    Instant at = Instant.now();
    return new TaskDump(
        at, withStackTraces, List.of(Dumper.of((SupervisorImpl) supervisor, withStackTraces)));
  }

  /**
   * The dump as text: one line per node, indented two spaces per level, as {@code kind 'name' STATE
   * age} (an item of durable work reads {@code entry 'confirm/7' PENDING 3.4 s}, the items not
   * listed {@code more '99980' PENDING 2.1 s}), then {@code must-finish} and {@code cancelled} when
   * they apply, and for a supervisor or group the number of its running tasks ({@code , 3 tasks});
   * each requested stack frame on its own line below its task, as {@code at frame}, indented two
   * levels deeper than the task. Ages read {@code 850 ms}, {@code 1.2 s}, or whole seconds from 100
   * s on. Control characters in names are escaped as in Java. Empty if nothing is live; each line
   * ends with a line feed.
   */
  public String toText() {
    return DumpFormat.text(this);
  }

  /**
   * The dump as one line of JSON (RFC 8259): {@code {"takenAt": ISO-8601 string, "stackTraces":
   * boolean, "roots": [node...]}}, each node {@code {"kind": "app" | "layer" | "supervisor" |
   * "group" | "task" | "entry" | "more", "name": string, "state": string, "ageMillis": number,
   * "mustFinish": boolean, "cancelled": boolean, "stackTrace": [string...], "children":
   * [node...]}}, where {@code "stackTrace"} is only present on tasks, and only when stack traces
   * were requested: one {@link StackTraceElement#toString()} per frame, innermost first. Names are
   * escaped as JSON requires; unpaired surrogates, U+2028 and U+2029 are escaped too, so the text
   * encodes to valid UTF-8 and embeds in JavaScript.
   */
  public String toJson() {
    return DumpFormat.json(this);
  }

  /** {@link #toText()}. */
  @Override
  public String toString() {
    return toText();
  }
}

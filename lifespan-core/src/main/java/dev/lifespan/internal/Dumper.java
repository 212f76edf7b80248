package dev.lifespan.internal;

import dev.lifespan.TaskDump;
import dev.lifespan.TaskDump.Kind;
import dev.lifespan.TaskDump.Node;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Walks the live tree for {@link TaskDump}: from an owner, its running children (one pass over its
 * lock-free list) and the scopes nested in it on its thread; from a task, the scopes nested in it.
 * In a chain of nested scopes, the first owner found stands for the rest of the chain, and the
 * supervisors attached to each scope before it are included. Takes no other lock and waits for
 * nothing; see {@link TaskDump} for what the result is consistent with.
 */
public final class Dumper {
  private final boolean stacks;
  private final boolean entries; // call the layers' entry sources
  private final long now = System.nanoTime();

  /** Owners already listed: a tree read while it changes must not list one twice. */
  private final Set<ScopeNode> seen = Collections.newSetFromMap(new IdentityHashMap<>());

  private Dumper(boolean stacks, boolean entries) {
    this.stacks = stacks;
    this.entries = entries;
  }

  /** The trees of all running applications, then all top-level owners, oldest first. */
  public static List<Node> roots(boolean stacks) {
    Dumper d = new Dumper(stacks, true);
    List<Node> out = new ArrayList<>();
    for (AppRunner a : Roots.apps()) out.add(d.app(a));
    for (TaskOwner o : Roots.snapshot()) d.owner(o, out);
    return out;
  }

  /**
   * The tree of one application; with the items of durable work its layers list if {@code entries}
   * (not when the runner gives up: a layer's source may block).
   */
  public static Node of(AppRunner a, boolean stacks, boolean entries) {
    return new Dumper(stacks, entries).app(a);
  }

  private Node app(AppRunner a) {
    ScopeNode root = a.root();
    List<Node> children = new ArrayList<>();
    if (root != null) nested(root, children);
    return new Node(
        Kind.APP,
        a.name(),
        a.state().name(),
        Duration.ofNanos(now - a.createdAt),
        false,
        root != null && ScopeNode.cancelledFrom(root) != null,
        children,
        List.of());
  }

  private Node layer(ScopeNode s, Roots.Layer layer) {
    List<Node> children = new ArrayList<>();
    nested(s, children);
    if (entries) {
      // after the layer's own supervisor, before the inner layer (always the last child if any)
      int at =
          !children.isEmpty() && children.getLast().kind() == Kind.LAYER
              ? children.size() - 1
              : children.size();
      children.addAll(at, entries(layer.context()));
    }
    return new Node(
        Kind.LAYER,
        layer.name(),
        s.state == ScopeNode.CLOSED ? "CLOSED" : "OPEN",
        Duration.ofNanos(now - layer.startedAt()),
        false,
        ScopeNode.cancelledFrom(s) != null,
        children,
        List.of());
  }

  /**
   * The items of durable work that {@code layer} lists: at most {@link TaskDump#ENTRIES_LISTED}
   * entry nodes and every more node its source returned; nothing if it has none or it threw. A
   * cancellation of the dumping thread is not swallowed: it propagates, or an interrupt is
   * restored.
   */
  static List<Node> entries(LayerContext layer) {
    TaskDump.EntrySource source = layer.dumpSource;
    if (source == null) return List.of();
    List<Node> got;
    try {
      got = source.entries(TaskDump.ENTRIES_LISTED);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    } catch (dev.lifespan.CancelledException e) {
      throw e;
    } catch (Exception e) {
      return List.of();
    }
    if (got == null) return List.of();
    List<Node> out = new ArrayList<>(Math.min(got.size(), TaskDump.ENTRIES_LISTED + 3));
    int listed = 0;
    for (Node n : got) {
      if (n == null) continue;
      if (n.kind() == Kind.MORE) out.add(n);
      else if (n.kind() == Kind.ENTRY && listed++ < TaskDump.ENTRIES_LISTED) out.add(n);
    }
    return out;
  }

  /** The tree of one supervisor. */
  public static Node of(SupervisorImpl s, boolean stacks) {
    List<Node> out = new ArrayList<>(1);
    new Dumper(stacks, true).owner(s, out);
    return out.getFirst();
  }

  private void owner(TaskOwner o, List<Node> out) {
    if (!seen.add(o)) return;
    List<TaskImpl<?>> tasks = o.children.snapshot(); // newest first
    List<Node> children = new ArrayList<>(tasks.size() + 1);
    for (TaskImpl<?> t : tasks.reversed()) children.add(task(t));
    nested(o, children);
    boolean sup = o instanceof SupervisorImpl;
    String state =
        o instanceof SupervisorImpl s
            ? s.state().name()
            : o.state == ScopeNode.CLOSED ? "CLOSED" : "OPEN";
    out.add(
        new Node(
            sup ? Kind.SUPERVISOR : Kind.GROUP,
            o.name(),
            state,
            Duration.ofNanos(now - o.createdAt),
            false,
            ScopeNode.cancelledFrom(o) != null,
            children,
            List.of()));
  }

  private Node task(TaskImpl<?> t) {
    List<Node> children = new ArrayList<>(0);
    nested(t, children);
    Thread th = t.thread; // null only while being spawned
    List<StackTraceElement> stack = stacks && th != null ? List.of(th.getStackTrace()) : List.of();
    return new Node(
        Kind.TASK,
        t.name(),
        t.state().name(),
        Duration.ofNanos(now - t.spawnedAt),
        t.shield,
        ScopeNode.cancelledFrom(t) != null,
        children,
        stack);
  }

  /**
   * Adds the owners opened inside {@code from} on its thread, and the supervisors attached there.
   */
  private void nested(ScopeNode from, List<Node> out) {
    for (ScopeNode s = from; s != null; s = s.inner) {
      if (s != from && s instanceof TaskOwner o) {
        owner(o, out); // it lists what is nested in it
        return;
      }
      Roots.Layer layer = s != from ? RoleScope.layerOf(s) : null;
      if (layer != null) {
        out.add(layer(s, layer)); // it lists what is nested in it
        return;
      }
      ScopeNode[] attached = s.attached();
      if (attached != null) {
        for (ScopeNode a : attached) owner((TaskOwner) a, out);
      }
    }
  }
}

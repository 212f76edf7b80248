package dev.lifespan.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live top-level owners of the process, where a task dump starts: supervisors and task groups
 * that no other owner encloses ({@link TaskOwner#topLevel}). Every other live owner is reachable
 * from one of them: through an owner's running children, and through each scope's nested scope on
 * its thread ({@link ScopeNode#inner}) and the supervisors opened in it ({@link
 * ScopeNode#attached()}).
 *
 * <p>Running applications are listed too, by the root scope of their runner thread: the owners
 * opened inside an application are reached from it and are not top-level.
 *
 * <p>A supervisor is listed from its creation until the end of its shutdown; a group from its entry
 * until its last child ended. Owners that are not top-level cost nothing here.
 */
final class Roots {
  private static final Set<TaskOwner> LIVE = ConcurrentHashMap.newKeySet();

  /** Running applications, by the root scope of their runner thread. */
  private static final Map<ScopeNode, AppRunner> APPS = new ConcurrentHashMap<>();

  /** The scopes of running lifespan layers, with their names. */
  private static final Map<ScopeNode, Layer> LAYERS = new ConcurrentHashMap<>();

  /**
   * A running layer: its name, {@link System#nanoTime()} when it started, and its context (for the
   * items of durable work it lists in dumps).
   */
  record Layer(String name, long startedAt, LayerContext context) {}

  static void appStarted(ScopeNode root, AppRunner app) {
    APPS.put(root, app);
  }

  static void appEnded(ScopeNode root) {
    APPS.remove(root);
  }

  /** Whether {@code s} is the root scope of a running application. */
  static boolean isAppRoot(ScopeNode s) {
    return APPS.containsKey(s);
  }

  /** The running applications, oldest first. */
  static List<AppRunner> apps() {
    List<AppRunner> all = new ArrayList<>(APPS.values());
    all.sort((a, b) -> Long.signum(a.createdAt - b.createdAt));
    return all;
  }

  static void layerStarted(ScopeNode s, String name, LayerContext context) {
    LAYERS.put(s, new Layer(name, System.nanoTime(), context));
  }

  static void layerEnded(ScopeNode s) {
    LAYERS.remove(s);
  }

  /** The layer whose scope {@code s} is, or null. */
  static Layer layer(ScopeNode s) {
    return LAYERS.get(s);
  }

  private Roots() {}

  /** Lists {@code o} if it is top-level. */
  static void opened(TaskOwner o) {
    if (o.topLevel) LIVE.add(o);
  }

  /** Stops listing {@code o}. */
  static void ended(TaskOwner o) {
    if (o.topLevel) LIVE.remove(o);
  }

  /** The top-level owners live now, oldest first. */
  static List<TaskOwner> snapshot() {
    List<TaskOwner> all = new ArrayList<>(LIVE);
    all.sort((a, b) -> Long.signum(a.createdAt - b.createdAt)); // monotonic clock: subtract
    return all;
  }
}

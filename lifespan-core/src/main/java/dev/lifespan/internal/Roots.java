package dev.lifespan.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live top-level owners of the process, where a task dump starts: supervisors and task groups
 * that no other owner encloses ({@link TaskOwner#topLevel}). Every other live owner is reachable
 * from one of them: through an owner's running children, and through each scope's nested scope on
 * its thread ({@link ScopeNode#inner}) and the supervisors opened in it ({@link
 * ScopeNode#attached()}).
 *
 * <p>Running applications are listed too; each is a node of the tree through the root scope of its
 * runner thread, and each of its layers through the layer's scope ({@link RoleScope}): the owners
 * opened inside an application are reached from it and are not top-level.
 *
 * <p>A supervisor is listed from its creation until the end of its shutdown; a group from its entry
 * until its last child ended. Owners that are not top-level cost nothing here.
 */
final class Roots {
  private static final Set<TaskOwner> LIVE = ConcurrentHashMap.newKeySet();

  /** Running applications, by the root scope of their runner thread. */
  private static final Set<AppRunner> APPS = ConcurrentHashMap.newKeySet();

  /** A layer while it runs: what its {@link RoleScope} stands for. */
  record Layer(String name, long startedAt, LayerContext context) {}

  static void appStarted(AppRunner app) {
    APPS.add(app);
  }

  static void appEnded(AppRunner app) {
    APPS.remove(app);
  }

  static List<AppRunner> apps() {
    List<AppRunner> all = new ArrayList<>(APPS);
    all.sort((a, b) -> Long.signum(a.createdAt - b.createdAt));
    return all;
  }

  static void layerStarted(RoleScope s, String name, LayerContext context) {
    s.role = new Layer(name, System.nanoTime(), context);
  }

  static void layerEnded(RoleScope s) {
    s.role = null;
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

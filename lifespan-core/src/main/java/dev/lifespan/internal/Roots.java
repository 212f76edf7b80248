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
 * <p>A supervisor is listed from its creation until the end of its shutdown; a group from its entry
 * until its last child ended. Owners that are not top-level cost nothing here.
 */
final class Roots {
  private static final Set<TaskOwner> LIVE = ConcurrentHashMap.newKeySet();

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

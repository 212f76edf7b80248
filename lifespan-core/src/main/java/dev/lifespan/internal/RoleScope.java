package dev.lifespan.internal;

/**
 * A scope that stands for an application or one of its layers: the root scope of an application's
 * runner thread, or the scope a layer runs in. Applications and layers are nodes of the cancel tree
 * through it: a task dump lists them where it meets them, and an owner opened directly inside an
 * application is not top-level ({@link TaskOwner#topLevel}).
 */
final class RoleScope extends ScopeNode {
  /**
   * The application's runner, for an application's root scope; the layer while it runs, for a
   * layer's scope ({@link Roots.Layer}, set when its startup begins and cleared when it ended).
   */
  volatile Object role;

  RoleScope(String name, ScopeNode parent, Timer timer, Object role) {
    super(name, parent, false, timer);
    this.role = role;
  }

  /** The running layer {@code s} stands for, or null. */
  static Roots.Layer layerOf(ScopeNode s) {
    return s instanceof RoleScope r && r.role instanceof Roots.Layer l ? l : null;
  }

  /** Whether {@code s} is the root scope of an application's runner thread. */
  static boolean isAppRoot(ScopeNode s) {
    return s instanceof RoleScope r && r.role instanceof AppRunner;
  }
}

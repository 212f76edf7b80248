/**
 * Lifespan core: cancel scopes, task groups and tasks on virtual threads.
 *
 * <p>Only {@code dev.lifespan} is exported; {@code dev.lifespan.internal} holds the implementation.
 */
module dev.lifespan {
  exports dev.lifespan;
}

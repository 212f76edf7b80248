/**
 * Lifespan test support: {@link dev.lifespan.test.NoLeaks @NoLeaks}, which fails a test that leaves
 * threads running.
 *
 * <p>The annotation registers and configures the extension of the module {@code
 * dev.lifespan.leakcheck}, which this module requires transitively.
 */
module dev.lifespan.test {
  requires transitive dev.lifespan.leakcheck;

  exports dev.lifespan.test;
}

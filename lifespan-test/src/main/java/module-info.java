/**
 * Lifespan test support for users' tests: {@link dev.lifespan.test.NoLeaks @NoLeaks}, which fails a
 * test that leaves threads running, and {@link dev.lifespan.test.FakeClock}, a clock for timeline
 * tests of shutdown logic.
 *
 * <p>The annotation registers and configures the extension of the module {@code
 * dev.lifespan.leakcheck}. This module requires that module and Lifespan itself ({@code
 * dev.lifespan}) transitively, so a test that requires it reads both.
 */
module dev.lifespan.test {
  requires transitive dev.lifespan.leakcheck;
  requires transitive dev.lifespan;

  exports dev.lifespan.test;
}

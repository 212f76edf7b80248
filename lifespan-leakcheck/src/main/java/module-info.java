/**
 * Lifespan's leak check: a JUnit Jupiter extension that fails a test which leaves threads running.
 * It depends on JUnit only, so that the tests of every Lifespan module can use it.
 *
 * <p>Only {@code dev.lifespan.leakcheck} is exported; {@code dev.lifespan.leakcheck.internal} holds
 * the implementation. The extension is also provided as a service, so that JUnit's extension
 * autodetection ({@code junit.jupiter.extensions.autodetection.enabled=true}) applies it to every
 * test. Users annotate their tests with {@code @NoLeaks} of the module {@code dev.lifespan.test}.
 */
module dev.lifespan.leakcheck {
  requires transitive org.junit.jupiter.api;
  requires jdk.management;

  exports dev.lifespan.leakcheck;

  provides org.junit.jupiter.api.extension.Extension with
      dev.lifespan.leakcheck.NoLeaksExtension;
}

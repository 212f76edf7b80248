/**
 * Lifespan test support: a JUnit Jupiter extension that fails a test which leaves threads running.
 *
 * <p>Only {@code dev.lifespan.test} is exported; {@code dev.lifespan.test.internal} holds the
 * implementation. The extension is also provided as a service, so that JUnit's extension
 * autodetection ({@code junit.jupiter.extensions.autodetection.enabled=true}) applies it to every
 * test.
 */
module dev.lifespan.test {
  requires transitive org.junit.jupiter.api;
  requires jdk.management;

  exports dev.lifespan.test;

  provides org.junit.jupiter.api.extension.Extension with
      dev.lifespan.test.NoLeaksExtension;
}

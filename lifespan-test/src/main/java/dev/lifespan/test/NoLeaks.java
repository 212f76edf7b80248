package dev.lifespan.test;

import dev.lifespan.leakcheck.NoLeaksExtension;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fails a test that leaves threads running: registers {@link NoLeaksExtension} and configures it.
 *
 * <p>On a test class it applies to every test in the class, its subclasses and its {@code @Nested}
 * classes; on a test method, to that test. The extension's javadoc says what counts as a leak.
 *
 * {@snippet :
 * @NoLeaks(allow = "my-pool-.*")
 * class ConnectionPoolTest {
 *   @Test
 *   @NoLeaks(graceMillis = 5_000) // close() ends the pool's threads, but slowly
 *   void closeEndsEveryThread() { ... }
 * }
 * }
 *
 * <p>The annotation is optional where the extension is {@linkplain NoLeaksExtension autodetected};
 * it then only adjusts the settings.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@ExtendWith(NoLeaksExtension.class)
public @interface NoLeaks {
  /**
   * How long, in milliseconds, the threads a test started may take to end after it returns before
   * they count as leaked. Zero checks once, without waiting. Negative (the default) inherits the
   * value of the nearest enclosing {@code @NoLeaks} that sets one, else the configuration parameter
   * or system property {@value NoLeaksExtension#GRACE_MILLIS_PROPERTY}, else {@code 2000}.
   */
  long graceMillis() default -1;

  /**
   * Regular expressions for the names of threads that may outlive the test, such as a pool that
   * lives as long as the class under test. A thread whose whole name matches any of them, or any
   * pattern of an enclosing {@code @NoLeaks}, is not a leak. {@code ".*"} turns the check off.
   */
  String[] allow() default {};
}

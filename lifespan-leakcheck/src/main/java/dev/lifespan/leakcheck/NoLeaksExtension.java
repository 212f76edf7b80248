package dev.lifespan.leakcheck;

import dev.lifespan.leakcheck.internal.LeakCheck;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * A JUnit Jupiter extension that fails a test which leaves threads running after it ends.
 *
 * <p>Register it with a settings annotation (below), such as {@code @NoLeaks} of the module {@code
 * dev.lifespan.test}, on a test class or method, or for every test of a module with JUnit's
 * extension autodetection: put {@code junit.jupiter.extensions.autodetection.enabled=true} in the
 * module's test resource {@code junit-platform.properties}. This extension is listed in {@code
 * META-INF/services} and provided by the module {@code dev.lifespan.leakcheck}. If it is registered
 * more than once for a test (by annotation, autodetection or {@code @RegisterExtension}), the test
 * is still checked once.
 *
 * <h2>Settings annotations</h2>
 *
 * An annotation type directly annotated with {@code @ExtendWith(NoLeaksExtension.class)}, such as
 * {@code dev.lifespan.test.NoLeaks}, is a settings annotation: besides registering the extension,
 * its elements {@code long graceMillis()} and {@code String[] allow()}, where it declares them, set
 * the grace period and the allowed thread names described below. The extension finds settings
 * annotations as JUnit finds annotations: present, meta-present (on a composed annotation), or
 * inherited, on the test method, its class and the enclosing classes. An element of another type
 * under either name is a configuration error.
 *
 * <h2>What counts as a leak</h2>
 *
 * Before each test (before its {@code @BeforeEach} methods) the extension lists the JVM's live
 * threads; after it (after its {@code @AfterEach} methods) it lists them again. A thread in the
 * second list and not the first, platform or virtual, is a new thread; a new thread still alive
 * when the grace period ends is leaked, unless its name is allowed. Threads are told apart by
 * {@linkplain Thread#threadId() id}. Platform threads are listed with {@link
 * Thread#getAllStackTraces()}, virtual threads with the JDK's JSON thread dump ({@link
 * com.sun.management.HotSpotDiagnosticMXBean#dumpThreads}), which sees every virtual thread unless
 * the JVM runs with {@code -Djdk.trackAllThreads=false}.
 *
 * <p>The check is JVM-wide: it cannot tell which test started a thread, only when. Tests that run
 * in parallel in one JVM may therefore be blamed for each other's threads; run checked tests
 * sequentially. A leaked thread is reported once, by the test that started it, and is neither
 * stopped nor interrupted: it keeps running, and later tests see it as an old thread.
 *
 * <h2>Grace period</h2>
 *
 * Threads that a test has told to stop may still be on their way out when it returns. The extension
 * waits for the new threads to end for up to a grace period, re-listing the threads every few
 * milliseconds (1 ms at first, backing off to 10 ms), and passes as soon as none is left. The grace
 * period is the {@code graceMillis} (if zero or more) of the nearest settings annotation (method,
 * then class, then enclosing classes) that sets it; else the JUnit configuration parameter or
 * system property {@value #GRACE_MILLIS_PROPERTY}; else 2 seconds. A test that leaks therefore
 * takes the grace period longer to fail.
 *
 * <h2>Allowed threads</h2>
 *
 * A new thread whose whole name matches one of these regular expressions is never a leak: the
 * {@code allow} patterns of every settings annotation on the test method, its class and the
 * enclosing classes; the configuration parameter or system property {@value #ALLOW_PROPERTY}; and
 * the names of the JDK's and the test infrastructure's own long-lived threads, which start lazily
 * during whichever test first needs them: {@code ForkJoinPool-N-worker-M} (virtual thread carriers)
 * and {@code ForkJoinPool.commonPool-worker-N}, {@code VirtualThread-unparker}, the virtual thread
 * I/O pollers, {@code Common-Cleaner}, {@code Reference Handler}, {@code Finalizer}, {@code Signal
 * Dispatcher}, {@code Attach Listener}, {@code Notification Thread}, {@code process reaper}, JIT
 * compiler and other JVM service threads, {@code JFR *}, {@code surefire-*}, {@code junit-*}, and
 * Lifespan's own timer, {@code lifespan-timer}.
 *
 * <h2>Failure</h2>
 *
 * A leak fails the test with an {@link AssertionError} whose message names every leaked thread
 * (name, virtual or platform, id, state) with its stack. If the test had already failed, its own
 * exception stays the failure and JUnit adds the leak report to it as a suppressed exception. A
 * thread dump that cannot be taken (no writable temporary directory) fails the test with an {@link
 * java.io.UncheckedIOException}; a malformed setting fails it with an {@link
 * ExtensionConfigurationException}.
 *
 * <h2>Cost</h2>
 *
 * Each listing writes a thread dump to a temporary file and parses it, so a passing test pays for
 * two listings: about 1.5 ms in all with a few dozen live threads, growing with the number of live
 * virtual threads (about 35 ms with a thousand). A leaking test also waits out its grace period.
 * The first listing in a JVM also loads the JDK's management classes (100 to 200 ms, once).
 *
 * <h2>Interruption</h2>
 *
 * An interrupt of the test's thread during the grace period ends the wait: the threads still alive
 * are reported, and the interrupt status stays set. An interrupt status the test left set does not
 * shorten the wait and is kept.
 */
public final class NoLeaksExtension implements BeforeEachCallback, AfterEachCallback {
  /** Configuration parameter or system property: the default grace period, in milliseconds. */
  public static final String GRACE_MILLIS_PROPERTY = "lifespan.leakcheck.graceMillis";

  /** Configuration parameter or system property: a regex for thread names allowed in all tests. */
  public static final String ALLOW_PROPERTY = "lifespan.leakcheck.allow";

  private static final Duration DEFAULT_GRACE = Duration.ofSeconds(2);
  private static final Namespace NAMESPACE = Namespace.create(NoLeaksExtension.class);
  private static final String CHECK = "check"; // store key of the running test's LeakCheck

  /** Creates the extension; JUnit calls this when it registers it. */
  public NoLeaksExtension() {}

  /** Lists the live threads, unless another registration of this extension already did. */
  @Override
  public void beforeEach(ExtensionContext context) {
    var store = context.getStore(NAMESPACE);
    if (store.get(CHECK) == null) {
      store.put(CHECK, LeakCheck.start());
    }
  }

  /**
   * Waits up to the grace period for the threads started since {@link #beforeEach} to end.
   *
   * @throws AssertionError if any of them is still alive and not allowed
   */
  @Override
  public void afterEach(ExtensionContext context) {
    LeakCheck check = context.getStore(NAMESPACE).remove(CHECK, LeakCheck.class);
    if (check == null) {
      return; // another registration of this extension checks, or already checked, this test
    }
    List<Annotation> settings = settings(context);
    LeakCheck.Leaks leaks = check.awaitEnd(allowed(context, settings), grace(context, settings));
    if (!leaks.isEmpty()) {
      throw new AssertionError(leaks.report(context.getDisplayName()));
    }
  }

  /** The settings annotations on the test and its enclosing classes, nearest first. */
  private static List<Annotation> settings(ExtensionContext context) {
    List<Annotation> found = new ArrayList<>();
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      c.getElement()
          .ifPresent(
              e -> {
                for (Class<? extends Annotation> type : settingsTypes(e)) {
                  AnnotationSupport.findAnnotation(e, type).ifPresent(found::add);
                }
              });
    }
    return found;
  }

  /**
   * The settings annotation types that JUnit might find on {@code element}: those on it, on its
   * annotations' types (recursively), and, for a class, on its superclasses and interfaces. Which
   * of them apply is left to {@link AnnotationSupport#findAnnotation}.
   */
  private static Set<Class<? extends Annotation>> settingsTypes(AnnotatedElement element) {
    Set<Class<? extends Annotation>> types = new LinkedHashSet<>();
    collectSettingsTypes(element, types, new HashSet<>());
    return types;
  }

  private static void collectSettingsTypes(
      AnnotatedElement element,
      Set<Class<? extends Annotation>> types,
      Set<AnnotatedElement> visited) {
    if (!visited.add(element)) {
      return;
    }
    for (Annotation a : element.getAnnotations()) {
      Class<? extends Annotation> type = a.annotationType();
      if (isSettingsType(type)) {
        types.add(type);
      } else if (!type.getPackageName().equals("java.lang.annotation")) {
        collectSettingsTypes(type, types, visited);
      }
    }
    if (element instanceof Class<?> c) {
      for (Class<?> i : c.getInterfaces()) {
        collectSettingsTypes(i, types, visited);
      }
      if (c.getSuperclass() != null) {
        collectSettingsTypes(c.getSuperclass(), types, visited);
      }
    }
  }

  private static boolean isSettingsType(Class<? extends Annotation> type) {
    return Arrays.stream(type.getDeclaredAnnotationsByType(ExtendWith.class))
        .anyMatch(e -> Arrays.asList(e.value()).contains(NoLeaksExtension.class));
  }

  /** The settings annotation's {@code graceMillis}, or -1 if it declares none. */
  private static long graceMillis(Annotation settings) {
    Object value = element(settings, "graceMillis", long.class);
    return value == null ? -1 : (Long) value;
  }

  /** The settings annotation's {@code allow} patterns, or none if it declares none. */
  private static List<String> allow(Annotation settings) {
    Object value = element(settings, "allow", String[].class);
    return value == null ? List.of() : List.of((String[]) value);
  }

  /** The value of the element {@code name} of {@code settings}, or null if it declares none. */
  private static Object element(Annotation settings, String name, Class<?> type) {
    Method method;
    try {
      method = settings.annotationType().getMethod(name);
    } catch (NoSuchMethodException e) {
      return null;
    }
    if (method.getReturnType() != type) {
      throw new ExtensionConfigurationException(
          settings.annotationType().getName()
              + "."
              + name
              + "() should be of type "
              + type.getSimpleName()
              + ", not "
              + method.getReturnType().getSimpleName());
    }
    try {
      method
          .trySetAccessible(); // the annotation type may be private to a test; public works anyway
      return method.invoke(settings);
    } catch (ReflectiveOperationException e) {
      throw new ExtensionConfigurationException("Cannot read " + name + " of " + settings, e);
    }
  }

  private static Duration grace(ExtensionContext context, List<Annotation> settings) {
    for (Annotation s : settings) {
      long millis = graceMillis(s);
      if (millis >= 0) {
        return Duration.ofMillis(millis);
      }
    }
    Optional<String> configured = context.getConfigurationParameter(GRACE_MILLIS_PROPERTY);
    if (configured.isEmpty()) {
      return DEFAULT_GRACE;
    }
    try {
      long millis = Long.parseLong(configured.get().strip());
      if (millis >= 0) {
        return Duration.ofMillis(millis);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ExtensionConfigurationException(
        GRACE_MILLIS_PROPERTY + " is not a number of milliseconds >= 0: " + configured.get());
  }

  private static Predicate<String> allowed(ExtensionContext context, List<Annotation> settings) {
    List<String> regexes = new ArrayList<>();
    context.getConfigurationParameter(ALLOW_PROPERTY).ifPresent(regexes::add);
    for (Annotation s : settings) {
      regexes.addAll(allow(s));
    }
    List<Pattern> patterns = new ArrayList<>();
    for (String regex : regexes) {
      try {
        patterns.add(Pattern.compile(regex));
      } catch (PatternSyntaxException e) {
        throw new ExtensionConfigurationException(
            "Bad allow pattern for the leak check: " + regex, e);
      }
    }
    return name -> patterns.stream().anyMatch(p -> p.matcher(name).matches());
  }
}

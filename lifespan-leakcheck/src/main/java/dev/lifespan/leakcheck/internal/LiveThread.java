package dev.lifespan.leakcheck.internal;

import com.sun.management.HotSpotDiagnosticMXBean;
import com.sun.management.HotSpotDiagnosticMXBean.ThreadDumpFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One thread that was alive when the JVM's threads were last listed.
 *
 * @param tid the thread's id ({@link Thread#threadId()}), unique for the life of the JVM
 * @param name the thread's name, possibly empty
 * @param virtual whether it is a virtual thread
 * @param state the thread's state when it was listed, e.g. {@code WAITING}
 * @param stack its stack when it was listed, innermost frame first, each frame as the JDK's thread
 *     dump writes it: {@code module/class.method(file:line)}
 */
public record LiveThread(long tid, String name, boolean virtual, String state, List<String> stack) {

  /**
   * Lists every live thread: platform threads from {@link Thread#getAllStackTraces()}, virtual
   * threads from the JDK's JSON thread dump ({@link HotSpotDiagnosticMXBean#dumpThreads}), which
   * lists every virtual thread the JDK tracks (all of them, unless {@code jdk.trackAllThreads} is
   * {@code false}).
   *
   * @throws UncheckedIOException if the thread dump cannot be written to, or read back from, a
   *     temporary file
   */
  public static List<LiveThread> all() {
    List<LiveThread> threads = new ArrayList<>();
    for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
      Thread t = e.getKey();
      List<String> stack = Arrays.stream(e.getValue()).map(LiveThread::frame).toList();
      threads.add(new LiveThread(t.threadId(), t.getName(), false, t.getState().name(), stack));
    }
    Object dump = member(Json.parse(dumpThreads()), "threadDump");
    for (Object container : list(member(dump, "threadContainers"))) {
      for (Object thread : list(member(container, "threads"))) {
        if (Boolean.TRUE.equals(member(thread, "virtual"))) {
          threads.add(
              new LiveThread(
                  Long.parseLong(String.valueOf(member(thread, "tid"))),
                  String.valueOf(member(thread, "name")),
                  true,
                  String.valueOf(member(thread, "state")),
                  list(member(thread, "stack")).stream().map(String::valueOf).toList()));
        }
      }
    }
    return threads;
  }

  /** Formats a frame as the thread dump does: no class loader name, no module version. */
  private static String frame(StackTraceElement e) {
    String module = e.getModuleName() == null ? "" : e.getModuleName() + "/";
    String source =
        e.isNativeMethod()
            ? "Native Method"
            : e.getFileName() == null
                ? "Unknown Source"
                : e.getLineNumber() < 0
                    ? e.getFileName()
                    : e.getFileName() + ":" + e.getLineNumber();
    return module + e.getClassName() + "." + e.getMethodName() + "(" + source + ")";
  }

  private static String dumpThreads() {
    try {
      Path file = Files.createTempFile("lifespan-threads-", ".json").toAbsolutePath();
      try {
        Files.delete(file); // dumpThreads refuses to overwrite; the random name stays ours
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
            .dumpThreads(file.toString(), ThreadDumpFormat.JSON);
        return Files.readString(file);
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list virtual threads: thread dump failed", e);
    }
  }

  private static Object member(Object json, String name) {
    if (json instanceof Map<?, ?> object) {
      return object.get(name);
    }
    throw unexpected("object with member '" + name + "'");
  }

  private static List<?> list(Object json) {
    if (json instanceof List<?> array) {
      return array;
    }
    throw unexpected("array");
  }

  private static IllegalStateException unexpected(String what) {
    return new IllegalStateException("Unexpected JSON thread dump: expected an " + what);
  }
}

package dev.lifespan;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a test's {@code main} class in a child JVM with the library and the test classes. */
final class ChildJvm {
  private ChildJvm() {}

  /** How a child ended. */
  record Result(int exitCode, String output) {}

  /** Starts {@code main} in a child JVM with {@code jvmArgs} and {@code args}. */
  static Process start(List<String> jvmArgs, Class<?> main, String... args) throws IOException {
    String javaBin = ProcessHandle.current().info().command().orElseThrow();
    String cp = location(CancelScope.class) + File.pathSeparator + location(main);
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBin);
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", cp, main.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Runs {@code main} to its end (at most a minute); returns its exit code and output. */
  static Result run(List<String> jvmArgs, Class<?> main, String... args)
      throws IOException, InterruptedException {
    Process p = start(jvmArgs, main, args);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(1, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("child JVM " + main.getName() + " did not exit: " + out);
    }
    return new Result(p.exitValue(), out);
  }

  private static String location(Class<?> c) {
    try {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }
}

package dev.lifespan.consumercheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The published artifacts, as a user's build sees them.
 *
 * <p>Before the tests, the artifacts this build has just packaged — the parent pom, lifespan-bom,
 * and each published module's pom, jar, sources jar and javadoc jar — are staged into {@code
 * target/staging-repo}, laid out as a local Maven repository, exactly as {@code ./run.sh install}
 * would put them into {@code ~/.m2/repository}. The consumer project ({@code src/test/consumer}:
 * its own pom.xml importing the BOM, with no versions on the Lifespan dependencies) is then built
 * by Maven with that directory as its local repository and this build's local repository as a
 * read-only tail for plugins and JUnit, so nothing is written outside {@code target/}.
 */
class ConsumerBuildTest {
  /** Each published module's artifact id and module name, in build order. */
  private static final Map<String, String> MODULES = new LinkedHashMap<>();

  static {
    MODULES.put("lifespan-leakcheck", "dev.lifespan.leakcheck");
    MODULES.put("lifespan-core", "dev.lifespan");
    MODULES.put("lifespan-test", "dev.lifespan.test");
    MODULES.put("lifespan-http", "dev.lifespan.http");
    MODULES.put("lifespan-jdbc", "dev.lifespan.jdbc");
    MODULES.put("lifespan-context", "dev.lifespan.context");
    MODULES.put("lifespan-spring-boot", "dev.lifespan.spring");
  }

  private static final String VERSION = property("lifespan.version");
  private static final Path ROOT = Path.of(property("lifespan.root")).normalize();
  private static final Path WORK = Path.of(property("lifespan.work.dir"));
  private static final Path REPO = WORK.resolve("staging-repo");
  private static final Path CONSUMER = WORK.resolve("consumer");

  @BeforeAll
  static void stage() throws IOException {
    deleteTree(REPO);
    stageFile(ROOT.resolve("pom.xml"), "lifespan-parent", ".pom");
    stageFile(ROOT.resolve("lifespan-bom/pom.xml"), "lifespan-bom", ".pom");
    for (String artifact : MODULES.keySet()) {
      Path module = ROOT.resolve(artifact);
      stageFile(module.resolve("pom.xml"), artifact, ".pom");
      for (String suffix : List.of(".jar", "-sources.jar", "-javadoc.jar")) {
        stageFile(module.resolve("target/" + artifact + "-" + VERSION + suffix), artifact, suffix);
      }
    }
  }

  @Test
  void theBomIsAtTheProjectVersionAndManagesEachPublishedModule() throws IOException {
    String bom = Files.readString(staged("lifespan-bom", ".pom"));
    assertTrue(
        bom.contains("<artifactId>lifespan-bom</artifactId>\n  <version>" + VERSION + "</version>"),
        "lifespan-bom/pom.xml has the project's version, " + VERSION);
    Set<String> managed = new TreeSet<>();
    Matcher m = Pattern.compile("<artifactId>(lifespan-[a-z-]+)</artifactId>").matcher(bom);
    while (m.find()) managed.add(m.group(1));
    managed.remove("lifespan-bom");
    assertEquals(new TreeSet<>(MODULES.keySet()), managed, "the modules lifespan-bom manages");
    assertTrue(!bom.contains("<parent>"), "lifespan-bom has no parent, so imports nothing else");
  }

  @Test
  void eachJarIsItsNamedModuleWithSourcesAndJavadoc() throws IOException {
    for (var module : MODULES.entrySet()) {
      String artifact = module.getKey();
      Path jar = staged(artifact, ".jar");
      List<ModuleReference> found = new ArrayList<>(ModuleFinder.of(jar).findAll());
      assertEquals(1, found.size(), jar + ": modules found");
      ModuleDescriptor descriptor = found.getFirst().descriptor();
      assertEquals(module.getValue(), descriptor.name(), jar + ": module name");
      assertTrue(!descriptor.isAutomatic(), jar + ": has a module-info.class");
      assertEquals(
          Set.of(module.getValue()),
          descriptor.exports().stream()
              .map(ModuleDescriptor.Exports::source)
              .collect(Collectors.toSet()),
          jar + ": exported packages");
      assertTrue(
          entries(staged(artifact, "-sources.jar")).contains("module-info.java"),
          artifact + "-sources.jar has module-info.java");
      Set<String> javadoc = entries(staged(artifact, "-javadoc.jar"));
      assertTrue(
          javadoc.contains("index.html") && javadoc.contains("element-list"),
          artifact + "-javadoc.jar has index.html and element-list: " + javadoc);
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void theConsumerProjectBuildsPassesItsTestsAndRunsOnTheModulePath() throws Exception {
    deleteTree(CONSUMER);
    copyTree(Path.of(property("lifespan.consumer.dir")), CONSUMER);
    // its own project root: this repository's .mvn/jvm.config must not apply to it
    Files.createDirectories(CONSUMER.resolve(".mvn"));

    Path mavenHome = Path.of(property("lifespan.maven.home"));
    boolean windows = System.getProperty("os.name").startsWith("Windows");
    List<String> mvn = new ArrayList<>();
    mvn.add(mavenHome.resolve(windows ? "bin/mvn.cmd" : "bin/mvn").toString());
    mvn.addAll(
        List.of(
            "-B",
            "--no-transfer-progress",
            "-f",
            CONSUMER.resolve("pom.xml").toString(),
            "-Dmaven.repo.local=" + REPO,
            "-Dmaven.repo.local.tail=" + property("lifespan.maven.repo"),
            "-Dlifespan.version=" + VERSION));
    if (Boolean.parseBoolean(property("lifespan.maven.offline"))) mvn.add("--offline");
    mvn.add("verify");
    String log = run(mvn, WORK.resolve("consumer-build.log"));
    assertTrue(
        log.contains("Tests run: 2, Failures: 0, Errors: 0, Skipped: 0"),
        "the consumer's two tests ran and passed:\n" + tail(log));

    // Every Lifespan artifact the consumer compiled, tested and runs against is a staged one,
    // not an older copy from the shared local repository.
    List<String> runtime = classpath("classpath.txt");
    List<String> test = classpath("test-classpath.txt");
    Set<String> lifespanJars = new TreeSet<>();
    for (String entry : test) {
      if (entry.contains("dev" + java.io.File.separator + "lifespan")) {
        assertTrue(Path.of(entry).startsWith(REPO), "resolved from the staged artifacts: " + entry);
        lifespanJars.add(Path.of(entry).getFileName().toString());
      }
    }
    assertEquals(
        MODULES.keySet().stream().map(a -> a + "-" + VERSION + ".jar").collect(Collectors.toSet()),
        lifespanJars,
        "the test class path has every published module, through the published poms");

    // The main, as a named module on the module path with its runtime dependencies.
    List<String> modulePath = new ArrayList<>();
    modulePath.add(CONSUMER.resolve("target/consumer-1.0.jar").toString());
    modulePath.addAll(runtime);
    String out =
        run(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path",
                String.join(java.io.File.pathSeparator, modulePath),
                "-m",
                "example.consumer/example.consumer.Main"),
            WORK.resolve("consumer-main.log"));
    assertEquals(
        "example.consumer dev.lifespan dev.lifespan.http dev.lifespan.jdbc dev.lifespan.context"
            + " dev.lifespan.spring: sum=42 moved-on=true propagator=true",
        out.strip());
  }

  private static String run(List<String> command, Path logFile) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(CONSUMER.toFile())
            .redirectErrorStream(true)
            .redirectOutput(logFile.toFile());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process process = builder.start();
    if (!process.waitFor(9, TimeUnit.MINUTES)) {
      process.destroyForcibly().waitFor();
      fail(command.getFirst() + " did not end within 9 minutes; its output is in " + logFile);
    }
    String log = Files.readString(logFile);
    if (process.exitValue() != 0) {
      fail(
          String.join(" ", command)
              + " exited with "
              + process.exitValue()
              + " (whole output in "
              + logFile
              + "):\n"
              + tail(log));
    }
    return log;
  }

  private static List<String> classpath(String file) throws IOException {
    String text = Files.readString(CONSUMER.resolve("target").resolve(file)).strip();
    return text.isEmpty() ? List.of() : Arrays.asList(text.split(java.io.File.pathSeparator));
  }

  private static String tail(String log) {
    List<String> lines = log.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  private static Path staged(String artifact, String suffix) {
    return REPO.resolve("dev/lifespan/" + artifact + "/" + VERSION)
        .resolve(artifact + "-" + VERSION + suffix);
  }

  private static void stageFile(Path source, String artifact, String suffix) throws IOException {
    if (!Files.isRegularFile(source)) {
      fail(
          source
              + " does not exist: mvn verify builds it before this test (the javadoc jars not with"
              + " -Dmaven.javadoc.skip=true, the sources jars not with -Dmaven.source.skip=true)");
    }
    Path target = staged(artifact, suffix);
    Files.createDirectories(target.getParent());
    Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
  }

  private static Set<String> entries(Path jar) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      return zip.stream().map(e -> e.getName()).collect(Collectors.toSet());
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }

  private static String property(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "system property " + name + " is not set: run this test through Maven (mvn verify)");
    }
    return value;
  }
}

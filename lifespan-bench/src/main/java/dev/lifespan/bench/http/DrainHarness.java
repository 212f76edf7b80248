package dev.lifespan.bench.http;

import static dev.lifespan.bench.Stats.median;

import com.sun.net.httpserver.HttpServer;
import dev.lifespan.App;
import dev.lifespan.Lifespan;
import dev.lifespan.bench.Settings;
import dev.lifespan.http.HttpApp;
import dev.lifespan.http.HttpOptions;
import dev.lifespan.http.Response;
import dev.lifespan.http.Routes;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drain time of in-flight slow requests on shutdown, and how many accepted requests failed; a
 * bounded program, not JMH.
 *
 * <p>Each round starts a server on loopback with one route, {@code GET /slow}, whose handler counts
 * itself in and then sleeps {@code slowMillis} before answering {@code 200 done}. A client (the
 * JDK's {@code HttpClient}, HTTP/1.1, so one connection per request) sends {@code requests}
 * requests at once; when every one of them is inside its handler, the shutdown is requested and
 * timed until it has ended. The floor is the time the last request to arrive still had to sleep at
 * that moment: no drain can be shorter without cutting a request off. Every request must then have
 * got {@code 200 done}; anything else (another status, a reset, a timeout) is a failed accepted
 * request. Server and client share one JVM.
 *
 * <ul>
 *   <li>{@code lifespan}: {@link HttpApp#start} with a 30 s grace; the shutdown is {@code
 *       app.signal(TERM)}, timed until {@code app.await()} returns (the listener closed, the
 *       requests drained, the layers torn down).
 *   <li>{@code bare}: the JDK's {@code HttpServer} with a virtual-thread-per-task executor; the
 *       shutdown is {@code server.stop(30)}, which closes the listener and waits up to 30 s for the
 *       exchanges it counts.
 * </ul>
 *
 * <p>System properties (all optional): {@code requests} (default 1000), {@code slowMillis} (default
 * 2000), {@code rounds} (default 5), {@code variants} (default {@code lifespan,bare}).
 */
public final class DrainHarness {
  private static final Duration GRACE = Duration.ofSeconds(30);

  private DrainHarness() {}

  /** One round: the drain time, its floor, and the requests that did not get {@code 200 done}. */
  private record Round(double drainMillis, double floorMillis, int failed, List<String> failures) {}

  /** A server under test: its port, and how to shut it down (returns when it has). */
  private interface Server {
    int port();

    void shutDown() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    int requests = Integer.getInteger("requests", 1000);
    long slowMillis = Long.getLong("slowMillis", 2000);
    int rounds = Integer.getInteger("rounds", 5);
    List<String> variants = Settings.list("variants", "lifespan,bare", ",");
    System.out.printf(
        "java %s, %d CPUs; %d requests in flight, each sleeping %d ms; %d rounds%n",
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        requests,
        slowMillis,
        rounds);
    Map<String, List<Round>> results = new LinkedHashMap<>();
    for (String v : variants) results.put(v, new ArrayList<>());
    boolean ok = true;
    for (int round = 1; round <= rounds; round++) {
      for (String v : variants) {
        Round r = round(v, requests, slowMillis);
        results.get(v).add(r);
        System.out.printf(
            Locale.ROOT,
            "round %d %-9s drain %7.1f ms   floor %7.1f ms   beyond the floor %6.1f ms   failed %d%s%n",
            round,
            v,
            r.drainMillis(),
            r.floorMillis(),
            r.drainMillis() - r.floorMillis(),
            r.failed(),
            r.failures().isEmpty() ? "" : "   e.g. " + r.failures());
        ok &= r.failed() == 0 || !v.equals("lifespan");
      }
    }
    System.out.println();
    System.out.printf(
        "%-9s %14s %20s %16s%n", "variant", "median drain", "median beyond floor", "failed (all)");
    for (var e : results.entrySet()) {
      double drain =
          median(e.getValue().stream().mapToDouble(Round::drainMillis).sorted().toArray());
      double beyond =
          median(
              e.getValue().stream()
                  .mapToDouble(r -> r.drainMillis() - r.floorMillis())
                  .sorted()
                  .toArray());
      int failed = e.getValue().stream().mapToInt(Round::failed).sum();
      System.out.printf(
          Locale.ROOT, "%-9s %11.1f ms %17.1f ms %16d%n", e.getKey(), drain, beyond, failed);
    }
    if (!ok) {
      System.out.println("FAILED: lifespan lost accepted requests");
      System.exit(1);
    }
  }

  private static Round round(String variant, int requests, long slowMillis) throws Exception {
    CountDownLatch allIn = new CountDownLatch(requests);
    AtomicLong lastIn = new AtomicLong();
    byte[] done = "done\n".getBytes(StandardCharsets.UTF_8);
    Server server =
        switch (variant) {
          case "lifespan" -> lifespan(allIn, lastIn, slowMillis);
          case "bare" -> bare(allIn, lastIn, slowMillis, done);
          default -> throw new IllegalArgumentException("unknown variant '" + variant + "'");
        };
    try (ExecutorService clientThreads = Executors.newVirtualThreadPerTaskExecutor();
        HttpClient client =
            HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .executor(clientThreads)
                .connectTimeout(Duration.ofSeconds(30))
                .build()) {
      URI uri = URI.create("http://127.0.0.1:" + server.port() + "/slow");
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).build();
        calls.add(client.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
      }
      if (!allIn.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException(
            variant + ": only " + (requests - allIn.getCount()) + " requests arrived in 60 s");
      }
      long start = System.nanoTime();
      double floor = Math.max(0, (lastIn.get() + slowMillis * 1_000_000 - start) / 1e6);
      server.shutDown();
      double drain = (System.nanoTime() - start) / 1e6;
      int failed = 0;
      List<String> failures = new ArrayList<>();
      for (var call : calls) {
        String outcome;
        try {
          HttpResponse<String> r = call.get(60, TimeUnit.SECONDS);
          outcome = r.statusCode() == 200 && r.body().equals("done\n") ? null : "" + r.statusCode();
        } catch (Exception e) {
          outcome = e.getCause() != null ? e.getCause().toString() : e.toString();
        }
        if (outcome != null) {
          failed++;
          if (failures.size() < 3) failures.add(outcome);
        }
      }
      return new Round(drain, floor, failed, failures);
    }
  }

  private static Server lifespan(CountDownLatch allIn, AtomicLong lastIn, long slowMillis)
      throws InterruptedException {
    HttpApp app =
        HttpApp.start(
            App.Options.named("drain").withGrace(GRACE).withProgress(line -> {}),
            Lifespan.named("noop", ctx -> ctx.proceed()),
            HttpOptions.defaults().withHost("127.0.0.1").withPort(0).withBacklog(4096),
            Routes.create()
                .get(
                    "/slow",
                    req -> {
                      lastIn.set(System.nanoTime());
                      allIn.countDown();
                      Thread.sleep(slowMillis);
                      return Response.text(200, "done\n");
                    }));
    if (!app.awaitReady()) throw new IllegalStateException("did not start: " + app.app().await());
    return new Server() {
      @Override
      public int port() {
        return app.port();
      }

      @Override
      public void shutDown() throws Exception {
        app.app().signal(App.Signal.TERM);
        App.Result r = app.app().await();
        if (r.exitCode() != 143) throw new IllegalStateException("unexpected result " + r);
      }
    };
  }

  private static Server bare(CountDownLatch allIn, AtomicLong lastIn, long slowMillis, byte[] done)
      throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4096);
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    s.setExecutor(executor);
    s.createContext(
        "/slow",
        ex -> {
          try (ex) {
            lastIn.set(System.nanoTime());
            allIn.countDown();
            Thread.sleep(slowMillis);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(200, done.length);
            try (OutputStream out = ex.getResponseBody()) {
              out.write(done);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    s.start();
    return new Server() {
      @Override
      public int port() {
        return s.getAddress().getPort();
      }

      @Override
      public void shutDown() {
        s.stop((int) GRACE.toSeconds());
        executor.close();
      }
    };
  }
}

package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.lifespan.App;
import dev.lifespan.StartupFailedException;
import dev.lifespan.http.HttpApp;
import dev.lifespan.loadgen.OrdersLoad;
import dev.lifespan.loadgen.OrdersLoad.Outcome;
import dev.lifespan.loadgen.OrdersReport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orders service in-process, on port 0 with an H2 database in a temporary directory: shutdown
 * under load, bad input, and reading orders back.
 */
class OrdersServiceTest {
  private static final Duration WAIT = Duration.ofSeconds(30); // bounded waits; never reached

  @TempDir Path dir;

  private final List<String> progress = new CopyOnWriteArrayList<>();
  private final Output output = new Output();

  /** The service's own output; a test can wait for a text to appear in it. */
  private static final class Output extends ByteArrayOutputStream {
    @Override
    public synchronized void write(int b) {
      super.write(b);
      notifyAll();
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      super.write(b, off, len);
      notifyAll();
    }

    /** Waits until {@code text} was written, at most {@code timeout}; returns whether it was. */
    synchronized boolean await(String text, Duration timeout) throws InterruptedException {
      long until = System.nanoTime() + timeout.toNanos();
      while (!toString(StandardCharsets.UTF_8).contains(text)) {
        long left = until - System.nanoTime();
        if (left <= 0) return false;
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }

  private final List<HttpApp> apps = new ArrayList<>();
  private HttpClient client;

  /** Whatever a failed test left running is stopped, so that the leak check blames only it. */
  @AfterEach
  void stopEverything() throws Exception {
    for (HttpApp a : apps) a.app().requestShutdown();
    for (HttpApp a : apps) a.app().await(WAIT);
    if (client != null) client.close();
  }

  private String url() {
    return "jdbc:h2:file:" + dir.resolve("db").resolve("orders") + ";DB_CLOSE_ON_EXIT=FALSE";
  }

  private HttpApp start(String... args) throws InterruptedException {
    List<String> all = new ArrayList<>(List.of("--port=0", "--db=" + url()));
    all.addAll(List.of(args));
    OrdersConfig config = OrdersConfig.parse(all.toArray(String[]::new));
    HttpApp app =
        OrdersService.start(
            config, new PrintStream(output, true, StandardCharsets.UTF_8), progress::add);
    apps.add(app);
    assertTrue(app.awaitReady(), this::transcript);
    return app;
  }

  private String transcript() {
    return "\n--- service output:\n"
        + output.toString(StandardCharsets.UTF_8)
        + "--- progress:\n"
        + String.join("\n", progress);
  }

  // ---- shutdown under load

  @Test
  void sigtermUnderLoadConfirmsEveryAcceptedOrderAndHalfServesNothing() throws Exception {
    HttpApp app = start("--confirm-ms=200-400", "--grace=15s", "--quiet");
    AtomicLong signalled = new AtomicLong();
    OrdersLoad.Config load =
        OrdersLoad.Config.defaults()
            .withTarget("127.0.0.1", app.port())
            .withLoad(300, 16, 600) // about half a second of load
            .withMark(80, null);

    OrdersLoad.Summary s =
        OrdersLoad.run(
            load,
            () -> {
              signalled.set(System.nanoTime());
              app.app().signal(App.Signal.TERM);
            });
    App.Result result = app.app().await(WAIT).orElseThrow(() -> new AssertionError(transcript()));
    String report = s.describe() + transcript();
    System.out.print(s.describe());

    assertEquals(App.Outcome.TERMINATED, result.outcome(), report);
    assertEquals(143, result.exitCode(), report);
    assertNull(result.failure(), report);
    assertFalse(result.gaveUp(), report);
    assertTrue(result.stragglers().isEmpty(), report);
    assertTrue(result.reports().stream().allMatch(r -> r.failed() == 0), report);
    assertTrue(result.shutdownTime().compareTo(Duration.ofSeconds(10)) < 0, report);

    // the signal came in the middle of the load: accepted before it, refused after it
    long t = signalled.get();
    assertTrue(t != 0, "the mark was never reached: " + report);
    assertTrue(
        s.results().stream().anyMatch(r -> r.outcome() == Outcome.ACCEPTED && r.endNanos() < t),
        "no order was accepted before the signal: " + report);
    assertTrue(
        s.results().stream().anyMatch(r -> r.outcome() == Outcome.REFUSED && r.startNanos() > t),
        "no connection was refused after the signal: " + report);
    // every request was accepted, refused, or closed before any byte of a response
    assertEquals(0, s.count(Outcome.HALF_SERVED), report);
    assertEquals(0, s.count(Outcome.OTHER_STATUS), report);
    assertEquals(0, s.count(Outcome.ERROR), report);
    assertEquals(
        300,
        s.count(Outcome.ACCEPTED) + s.count(Outcome.REFUSED) + s.count(Outcome.NO_RESPONSE),
        report);

    // the guarantee: every 201 is a stored, confirmed order
    OrdersReport.Db db = OrdersReport.read(url());
    OrdersReport.Verdict v = OrdersReport.check(s.acceptedIds(), db, s.count(Outcome.HALF_SERVED));
    assertEquals(List.of(), v.missing(), "accepted orders not stored: " + report);
    assertEquals(List.of(), v.unconfirmed(), "accepted orders not confirmed: " + report);
    assertTrue(v.held(), report);
    assertTrue(s.acceptedIds().size() >= 80, report);
    assertEquals(db.orders(), db.confirmed(), "every stored order is confirmed: " + report);

    String out = output.toString(StandardCharsets.UTF_8);
    long accepted = s.count(Outcome.ACCEPTED);
    assertTrue(
        out.contains(
            "final counts: orders taken "
                + db.orders().size()
                + ", confirmed "
                + db.orders().size()
                + ","),
        report);
    assertTrue(db.orders().size() >= accepted, report);
    assertOrder(
        progress,
        "SIGTERM received",
        "tearing down layer 'http listener'", // after the background supervisor stopped
        "layer 'metrics' torn down",
        "layer 'database' torn down",
        "TERMINATED, exit code 143");
  }

  private static void assertOrder(List<String> lines, String... fragments) {
    int at = -1;
    for (String f : fragments) {
      int found = -1;
      for (int i = at + 1; i < lines.size(); i++) {
        if (lines.get(i).contains(f)) {
          found = i;
          break;
        }
      }
      assertTrue(found > at, "'" + f + "' after line " + at + " in:\n" + String.join("\n", lines));
      at = found;
    }
  }

  // ---- startup failures

  @Test
  void aDatabaseThatCannotBeOpenedFailsTheStartupWithOneLineNamingItsUrlAndTheReason()
      throws Exception {
    Path notADirectory = Files.writeString(dir.resolve("a file"), "");
    String url = "jdbc:h2:file:" + notADirectory.resolve("orders");
    OrdersConfig config = OrdersConfig.parse("--port=0", "--db=" + url);
    HttpApp app =
        OrdersService.start(
            config, new PrintStream(output, true, StandardCharsets.UTF_8), progress::add);
    apps.add(app);

    App.Result result = app.app().await(WAIT).orElseThrow(() -> new AssertionError(transcript()));
    assertEquals(App.Outcome.STARTUP_FAILED, result.outcome(), transcript());
    StartupFailedException failure = (StartupFailedException) result.failure();
    assertEquals("database", failure.layer());
    String message = failure.getCause().getMessage();
    assertTrue(message.startsWith("database " + url + " cannot be opened: "), message);
    assertEquals(1, message.lines().count(), message);
    assertTrue(output.toString(StandardCharsets.UTF_8).contains("database: closed"), transcript());
  }

  // ---- order-taking during a shutdown

  @Test
  void duringTheDrainAnOrderIsRefusedWhenTheGraceLeftIsShorterThanItsConfirmation()
      throws Exception {
    // a confirmation needs up to 3 s + CONFIRMATION_WRITE; the grace gives 2 s from the signal
    HttpApp app = start("--confirm-ms=3000", "--grace=2s", "--drain-delay=1s");
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String base = "http://127.0.0.1:" + app.port();
    app.app().signal(App.Signal.TERM); // the shutdown has begun when signal returns

    HttpResponse<String> r = send("POST", base + "/orders", "{\"item\": \"a\", \"quantity\": 1}");
    assertEquals(503, r.statusCode(), r.body() + transcript());
    assertEquals("shutting down: order not taken, retry elsewhere\n", r.body());
    assertEquals("close", r.headers().firstValue("Connection").orElse(""), r.headers().toString());

    App.Result result = app.app().await(WAIT).orElseThrow(() -> new AssertionError(transcript()));
    assertEquals(143, result.exitCode(), transcript());
    assertEquals(List.of(), result.abandoned(), transcript());
    String out = output.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("final counts: orders taken 0, confirmed 0,"), transcript());
    assertTrue(out.contains("refused while stopping 1"), transcript());
    assertTrue(out.contains("order not taken (503): shutting down"), transcript());
    assertEquals(0, OrdersReport.read(url()).orders().size(), "nothing stored: " + transcript());
  }

  @Test
  void duringTheDrainAnOrderIsTakenAndConfirmedWhileTheGraceLeftSufficesForIt() throws Exception {
    HttpApp app = start("--confirm-ms=100", "--grace=5s", "--drain-delay=1s");
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String base = "http://127.0.0.1:" + app.port();
    app.app().signal(App.Signal.TERM);

    HttpResponse<String> r = send("POST", base + "/orders", "{\"item\": \"a\", \"quantity\": 1}");
    assertEquals(201, r.statusCode(), r.body() + transcript());

    App.Result result = app.app().await(WAIT).orElseThrow(() -> new AssertionError(transcript()));
    assertEquals(143, result.exitCode(), transcript());
    assertEquals(List.of(), result.abandoned(), transcript());
    assertTrue(output.toString(StandardCharsets.UTF_8).contains("order 1 confirmed"), transcript());
  }

  @Test
  void anOrderIsTakenOnlyIfItsConfirmationFitsInTheGraceLeft() {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    Duration needed = Duration.ofMillis(2500);
    assertTrue(OrdersService.canConfirmInTime(Optional.empty(), now, needed), "no shutdown yet");
    assertTrue(OrdersService.canConfirmInTime(Optional.of(now.plus(needed)), now, needed));
    assertFalse(
        OrdersService.canConfirmInTime(Optional.of(now.plus(needed).minusMillis(1)), now, needed));
    assertFalse(OrdersService.canConfirmInTime(Optional.of(now.minusSeconds(1)), now, needed));
    assertEquals(
        Duration.ofMillis(2000).plus(OrdersService.CONFIRMATION_WRITE),
        new OrdersService(OrdersConfig.defaults(), System.out).confirmationBound());
  }

  // ---- the API

  @Test
  void badInputGetsA4xxWithAShortMessageAndTheServiceKeepsServing() throws Exception {
    HttpApp app = start("--confirm-ms=0", "--max-body-bytes=1024");
    String base = "http://127.0.0.1:" + app.port();
    Map<String, String> bad =
        Map.ofEntries(
            Map.entry("", "malformed JSON: empty body"),
            Map.entry("  ", "malformed JSON: empty body"),
            Map.entry("{", "malformed JSON: Unexpected end-of-input: expected close marker"),
            Map.entry(
                "{\"item\": \"book\", \"quantity\": 2",
                "malformed JSON: Unexpected end-of-input: expected close marker for Object, at"
                    + " offset 30"),
            Map.entry(
                "not json", "malformed JSON: expected a JSON object: Unrecognized token 'not'"),
            Map.entry("[1, 2]", "malformed JSON: expected a JSON object, not an array"),
            Map.entry("42", "malformed JSON: expected a JSON object, not a single value"),
            Map.entry(
                "{\"item\": \"book\", \"quantity\": 2} {}",
                "malformed JSON: more after the object, at offset 31"),
            Map.entry(
                "{\"item\": \"book\", \"item\": \"pen\", \"quantity\": 2}",
                "malformed JSON: Duplicate field 'item', at offset 23"),
            Map.entry(
                "{\"item\": \"book\", \"quantity\": 01}",
                "malformed JSON: Invalid numeric value: Leading zeroes not allowed"),
            Map.entry(
                "{\"item\": \"book\", \"quantity\": 1e99999999999}",
                "malformed JSON: Value \"1e99999999999\" can not be deserialized as"),
            Map.entry("{\"item\": \"line\nbreak\", \"quantity\": 1}", "CTRL-CHAR, code 10"),
            Map.entry("{\"quantity\": 2}", "missing field \"item\""),
            Map.entry("{\"item\": \"book\"}", "missing field \"quantity\""),
            Map.entry("{\"item\": 7, \"quantity\": 2}", "field \"item\" must be a string"),
            Map.entry("{\"item\": null, \"quantity\": 2}", "field \"item\" must be a string"),
            Map.entry("{\"item\": \"  \", \"quantity\": 2}", "field \"item\" must not be blank"),
            Map.entry(
                "{\"item\": \"book\", \"quantity\": \"2\"}", "must be a number, not a string"),
            Map.entry(
                "{\"item\": \"book\", \"quantity\": true}", "must be a number, not a boolean"),
            Map.entry("{\"item\": \"book\", \"quantity\": 0}", "must be positive"),
            Map.entry("{\"item\": \"book\", \"quantity\": -3}", "must be positive"),
            Map.entry("{\"item\": \"book\", \"quantity\": 2.5}", "must be a whole number"),
            Map.entry("{\"item\": \"book\", \"quantity\": 1e99}", "must be at most 1000000"),
            Map.entry("{\"item\": \"book\", \"quantity\": [2]}", "must be a number, not an array"),
            Map.entry(
                "{\"item\": {\"name\": \"book\"}, \"quantity\": 2}",
                "field \"item\" must be a string, not an object"),
            Map.entry("{\"item\": \"book\", \"quantity\": 2, \"x\": 1}", "unknown field \"x\""));
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    for (var e : bad.entrySet()) {
      HttpResponse<String> r = send("POST", base + "/orders", e.getKey());
      String what = "POST " + e.getKey() + " -> " + r.statusCode() + " " + r.body();
      assertEquals(400, r.statusCode(), what);
      assertTrue(r.body().contains(e.getValue()), what + ", expected: " + e.getValue());
      assertTrue(r.body().length() < 200, "a short message: " + what);
    }
    HttpResponse<String> big =
        send("POST", base + "/orders", "{\"item\": \"" + "x".repeat(2000) + "\"}");
    assertEquals(413, big.statusCode(), big.body());
    assertTrue(big.body().contains("over 1024 bytes"), big.body());
    HttpResponse<String> longItem =
        send("POST", base + "/orders", "{\"item\": \"" + "x".repeat(201) + "\", \"quantity\": 1}");
    assertEquals(400, longItem.statusCode(), longItem.body());
    assertTrue(longItem.body().contains("at most 200 characters"), longItem.body());

    HttpResponse<String> unknown = send("GET", base + "/customers", null);
    assertEquals(404, unknown.statusCode(), unknown.body());
    HttpResponse<String> delete = send("DELETE", base + "/orders/1", null);
    assertEquals(405, delete.statusCode(), delete.body());
    HttpResponse<String> put = send("PUT", base + "/orders", "{}");
    assertEquals(405, put.statusCode(), put.body());

    // still serving
    HttpResponse<String> ok =
        send("POST", base + "/orders", "{\"item\": \"book\", \"quantity\": 2}");
    assertEquals(201, ok.statusCode(), ok.body() + transcript());
    assertEquals("{\"id\": 1}", ok.body().strip());
    assertEquals("/orders/1", ok.headers().firstValue("Location").orElse(""));
    assertEquals(200, send("GET", base + "/health/ready", null).statusCode());

    app.app().requestShutdown();
    App.Result result = app.app().await(WAIT).orElseThrow();
    assertEquals(App.Outcome.SUCCEEDED, result.outcome(), transcript());
    String out = output.toString(StandardCharsets.UTF_8);
    assertTrue(
        out.contains(
            "final counts: orders taken 1, confirmed 1, awaiting confirmation 0;"
                + " bad requests "
                + (bad.size() + 1)),
        transcript());
  }

  @Test
  void getShowsTheOrderPendingThenConfirmedAnd404ForUnknownIds() throws Exception {
    // long enough that the order is still pending when the test reads it on a loaded machine
    HttpApp app = start("--confirm-ms=2000", "--dump-port=0");
    String base = "http://127.0.0.1:" + app.port();
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    HttpResponse<String> created =
        send("POST", base + "/orders", "{\"item\": \"caf\\u00e9 \\\"noir\\\"\", \"quantity\": 3}");
    assertEquals(201, created.statusCode(), created.body());
    Matcher m = Pattern.compile("\\{\"id\": (\\d+)}").matcher(created.body().strip());
    assertTrue(m.matches(), created.body());
    long id = Long.parseLong(m.group(1));

    HttpResponse<String> pending = send("GET", base + "/orders/" + id, null);
    assertEquals(200, pending.statusCode(), pending.body());
    assertEquals("application/json", pending.headers().firstValue("Content-Type").orElse(""));
    String body = pending.body();
    assertTrue(body.startsWith("{\"id\": " + id + ", \"item\": \"café \\\"noir\\\"\","), body);
    assertTrue(body.contains("\"quantity\": 3"), body);
    assertTrue(body.contains("\"status\": \"pending\", \"confirmed_at\": null"), body);
    var fields = JSON.std.mapFrom(body);
    // The claim loop, woken by the order's start, claims it on its own thread: the dump shows the
    // entry pending until then, then its run.
    String running = "task 'journal 'confirmations' confirm-order/" + id + "'";
    String tasks = send("GET", "http://127.0.0.1:" + app.dumpPort() + "/tasks", null).body();
    for (long until = System.nanoTime() + WAIT.toNanos();
        !tasks.contains(running) && System.nanoTime() < until; ) {
      Thread.sleep(10);
      tasks = send("GET", "http://127.0.0.1:" + app.dumpPort() + "/tasks", null).body();
    }
    assertTrue(tasks.contains(running), tasks);
    assertTrue(tasks.contains("layer 'database'"), tasks);
    assertTrue(tasks.contains("task 'metrics-flusher'"), tasks);
    assertEquals("café \"noir\"", fields.get("item"));

    // The service says so once the confirmation is written; the journal's commit follows.
    assertTrue(output.await("order " + id + " confirmed", Duration.ofSeconds(10)), transcript());
    String confirmed = send("GET", base + "/orders/" + id, null).body();
    for (long until = System.nanoTime() + WAIT.toNanos();
        confirmed.contains("\"pending\"") && System.nanoTime() - until < 0;
        Thread.sleep(10)) {
      confirmed = send("GET", base + "/orders/" + id, null).body();
    }
    fields = JSON.std.mapFrom(confirmed);
    assertEquals("confirmed", fields.get("status"), confirmed);
    assertEquals(2000, fields.get("delivery_ms"), confirmed);
    assertTrue(fields.get("confirmed_at") instanceof String, confirmed);

    HttpResponse<String> missing = send("GET", base + "/orders/999999", null);
    assertEquals(404, missing.statusCode());
    assertEquals("no order 999999\n", missing.body());
    HttpResponse<String> malformed = send("GET", base + "/orders/abc", null);
    assertEquals(400, malformed.statusCode());
    assertTrue(malformed.body().contains("order id must be a number"), malformed.body());

    HttpResponse<String> forged =
        send("POST", base + "/orders", "{\"item\": \"a\\nb\\u001b[31m\", \"quantity\": 1}");
    assertEquals(400, forged.statusCode(), "control characters are refused: " + forged.body());

    String out = output.toString(StandardCharsets.UTF_8);
    // The item as a JSON string: a client's control characters cannot reach the terminal.
    assertTrue(out.contains("order " + id + " taken: 3 x \"café \\\"noir\\\"\""), out);
    assertTrue(out.contains("order " + id + " confirmed (delivery took 2000 ms)"), out);
  }

  @Test
  void ordersSurviveARestartOnTheSameDatabase() throws Exception {
    HttpApp first = start("--confirm-ms=0");
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String base = "http://127.0.0.1:" + first.port();
    assertEquals(
        201, send("POST", base + "/orders", "{\"item\": \"a\", \"quantity\": 1}").statusCode());
    first.app().requestShutdown();
    assertEquals(App.Outcome.SUCCEEDED, first.app().await(WAIT).orElseThrow().outcome());

    HttpApp second = start("--confirm-ms=0");
    base = "http://127.0.0.1:" + second.port();
    HttpResponse<String> again = send("GET", base + "/orders/1", null);
    assertEquals(200, again.statusCode(), again.body());
    assertTrue(again.body().contains("\"status\": \"confirmed\""), again.body());
    HttpResponse<String> next =
        send("POST", base + "/orders", "{\"item\": \"b\", \"quantity\": 1}");
    assertEquals("{\"id\": 2}", next.body().strip());
    assertTrue(
        output
            .toString(StandardCharsets.UTF_8)
            .contains("database: schema ready; it holds 1 order(s), 1 confirmed"),
        transcript());
  }

  @Test
  void inputIsValidatedNotChanged() throws Exception {
    HttpApp app = start("--confirm-ms=0");
    String base = "http://127.0.0.1:" + app.port();
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    String json = "application/json";
    // Invalid UTF-8 (a lone continuation byte, an overlong '/'): refused, not stored as U+FFFD.
    for (byte[] bad :
        List.of(
            bytes("{\"item\": \"b\u0080k\", \"quantity\": 1}", (byte) 0x80),
            bytes("{\"item\": \"b\u0080k\", \"quantity\": 1}", (byte) 0xc0, (byte) 0xaf))) {
      HttpResponse<String> r = post(base, json, bad);
      assertEquals(400, r.statusCode(), r.body());
      assertEquals("the body is not valid UTF-8\n", r.body());
    }
    HttpResponse<String> lone =
        post(
            base,
            json,
            "{\"item\": \"\\ud800\", \"quantity\": 1}".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, lone.statusCode(), lone.body());
    assertTrue(lone.body().contains("unpaired surrogate"), lone.body());
    HttpResponse<String> control =
        post(
            base,
            json,
            "{\"item\": \"a\\u001b[2Kb\", \"quantity\": 1}".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, control.statusCode(), control.body());
    assertTrue(control.body().contains("control characters"), control.body());
    for (String type :
        List.of(
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin-1")) {
      HttpResponse<String> r =
          post(
              base, type, "{\"item\": \"book\", \"quantity\": 1}".getBytes(StandardCharsets.UTF_8));
      assertEquals(415, r.statusCode(), type + ": " + r.body());
      assertTrue(r.body().startsWith("Content-Type must be application/json"), r.body());
    }
    // 200 characters outside the BMP (400 UTF-16 units) are 200 characters; 201 are too many.
    String emoji = "\ud83d\udce6";
    HttpResponse<String> fits =
        post(
            base,
            "application/json; charset=utf-8",
            ("{\"item\": \"" + emoji.repeat(200) + "\", \"quantity\": 1}")
                .getBytes(StandardCharsets.UTF_8));
    assertEquals(201, fits.statusCode(), fits.body());
    String shown = send("GET", base + "/orders/1", null).body();
    assertTrue(shown.contains(emoji.repeat(200)), "stored unchanged: " + shown);
    HttpResponse<String> tooLong =
        post(
            base,
            json,
            ("{\"item\": \"" + emoji.repeat(201) + "\", \"quantity\": 1}")
                .getBytes(StandardCharsets.UTF_8));
    assertEquals(400, tooLong.statusCode(), tooLong.body());
    assertTrue(tooLong.body().contains("at most 200 characters"), tooLong.body());
  }

  /** {@code text} in UTF-8 with its first U+0080 replaced by {@code raw}. */
  private static byte[] bytes(String text, byte... raw) {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[utf8.length - 2 + raw.length];
    int at = 0;
    for (int i = 0; i < utf8.length; i++) {
      if (utf8[i] == (byte) 0xc2 && utf8[i + 1] == (byte) 0x80) {
        System.arraycopy(raw, 0, out, at, raw.length);
        at += raw.length;
        i++;
      } else {
        out[at++] = utf8[i];
      }
    }
    return out;
  }

  private HttpResponse<String> post(String base, String contentType, byte[] body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + "/orders"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> send(String method, String uri, String body) throws Exception {
    HttpRequest.BodyPublisher publisher =
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(uri))
            .timeout(Duration.ofSeconds(10))
            .method(method, publisher)
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  // ---- the command line

  @Test
  void badArgumentsNameTheArgumentAndItsValue() {
    Map<String, String> bad =
        Map.of(
            "--port=abc", "bad argument '--port=abc': must be a whole number from 0 to 65535",
            "--port=70000", "bad argument '--port=70000'",
            "--db=orders", "bad argument '--db=orders': must be a JDBC URL",
            "--confirm-ms=fast", "bad argument '--confirm-ms=fast'",
            "--confirm-ms=2000-1000", "MAX is less than MIN",
            "--grace=soon", "bad argument '--grace=soon': must be a duration",
            "--drain-delay=-1s", "bad argument '--drain-delay=-1s'",
            "--dump-port=", "bad argument '--dump-port=': needs a value",
            "--quiet=yes", "bad argument '--quiet=yes': takes no value",
            "--colour=blue", "unknown argument '--colour=blue'");
    for (var e : bad.entrySet()) {
      IllegalArgumentException x =
          assertThrows(IllegalArgumentException.class, () -> OrdersConfig.parse(e.getKey()));
      assertTrue(x.getMessage().contains(e.getValue()), x.getMessage());
    }
    OrdersConfig c =
        OrdersConfig.parse(
            "--port=9000",
            "--confirm-ms=10-20",
            "--grace=1.5s",
            "--drain-delay=5s",
            "--dump-port=9001");
    assertEquals(9000, c.port());
    assertEquals(10, c.confirmMinMillis());
    assertEquals(20, c.confirmMaxMillis());
    assertEquals(Duration.ofMillis(1500), c.grace());
    assertEquals(Duration.ofSeconds(5), c.drainDelay());
    assertEquals(9001, c.dumpPort());
    assertNull(OrdersConfig.parse("--help"));
    assertEquals(OrdersConfig.defaults(), OrdersConfig.parse());
    assertEquals(9002, OrdersConfig.parse("--port=9000", "--port=9002").port(), "the last wins");
    assertTrue(OrdersConfig.parse("--quiet").quiet());
    assertEquals(
        "bad argument '--port': needs a value",
        assertThrows(IllegalArgumentException.class, () -> OrdersConfig.parse("--port"))
            .getMessage());
  }

  @Test
  void theLogHidesDatabasePasswords() {
    assertEquals(
        "jdbc:postgresql://db/orders?user=app&password=***&ssl=true",
        OrdersService.redacted("jdbc:postgresql://db/orders?user=app&password=s3cret&ssl=true"));
    assertEquals(
        "jdbc:h2:file:./x;PASSWORD=***", OrdersService.redacted("jdbc:h2:file:./x;PASSWORD=pw"));
  }

  @Test
  void aDrainDelayNotShorterThanTheGraceIsRefusedWithOneLineNamingBoth() {
    IllegalArgumentException x =
        assertThrows(
            IllegalArgumentException.class,
            () -> OrdersService.validConfig("--drain-delay=40s", "--grace=5s"));
    assertEquals(
        "drain delay PT40S must be shorter than the grace period PT5S (app 'orders')",
        x.getMessage());
    assertEquals(
        Duration.ofSeconds(4),
        OrdersService.validConfig("--drain-delay=4s", "--grace=5s").drainDelay());
    assertNull(OrdersService.validConfig("--help"));
  }

  @Test
  void aBadArgumentExitsWithCode2AndOneLine() throws Exception {
    assertEquals(
        "OrdersService: bad argument '--port=eighty': must be a whole number from 0 to 65535",
        runExpectingExit(2, "--port=eighty"));
  }

  @Test
  void aDrainDelayNotShorterThanTheGraceExitsWithCode2AndOneLineBeforeOpeningAnything()
      throws Exception {
    Path db = dir.resolve("never-created");
    assertEquals(
        "OrdersService: drain delay PT40S must be shorter than the grace period PT5S (app"
            + " 'orders')",
        runExpectingExit(2, "--drain-delay=40s", "--grace=5s", "--db=jdbc:h2:file:" + db));
    assertFalse(Files.exists(db.getParent().resolve("never-created.mv.db")), "no database opened");
  }

  @Test
  void helpListsTheOptionsAndExitCodesAndExitsWith0() throws Exception {
    String help = runExpectingExit(0, "--help");
    assertEquals(OrdersConfig.USAGE.strip(), help);
    for (String option : List.of("--port=", "--db=", "--grace=", "--drain-delay=", "--quiet")) {
      assertTrue(help.contains(option), option);
    }
    assertTrue(help.contains("4 work abandoned"), help);
  }

  /** Runs the service as a process that should exit at once; returns its output, stripped. */
  private static String runExpectingExit(int code, String... args) throws Exception {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd =
        new ArrayList<>(
            List.of(
                java, "-cp", System.getProperty("java.class.path"), OrdersService.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), out);
    assertEquals(code, p.exitValue(), out);
    return out.strip();
  }
}

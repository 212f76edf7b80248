package dev.lifespan.loadgen;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A load generator for the orders service: a bounded number of {@code POST /orders} requests from a
 * bounded number of concurrent connections, optionally at a fixed rate, over raw sockets, so that
 * every way a request can end is told apart:
 *
 * <ul>
 *   <li>{@link Outcome#ACCEPTED}: a complete 201 with the order's id;
 *   <li>{@link Outcome#OTHER_STATUS}: a complete response with another status;
 *   <li>{@link Outcome#REFUSED}: the connection was refused (nobody listens);
 *   <li>{@link Outcome#NO_RESPONSE}: connected, but closed or reset before a single byte of
 *       response;
 *   <li>{@link Outcome#HALF_SERVED}: a response that started and was cut: headers or body short;
 *   <li>{@link Outcome#ERROR}: anything else (timeouts).
 * </ul>
 *
 * Each request uses a connection of its own ({@code Connection: close}), so a refused connection
 * means the listener is closed, and the end of a response is unambiguous. When the {@code
 * markAfter}-th 201 arrives, the load calls a callback (the shutdown-under-load test signals the
 * service there) or creates a marker file (the script waits for it, then sends SIGTERM), and goes
 * on with the rest of the requests.
 *
 * <p>Arguments ({@code --help} lists them), as {@code --key=value}: {@code --host} (127.0.0.1),
 * {@code --port} (8080), {@code --requests} (2000), {@code --concurrency} (32), {@code --rate}
 * (requests per second started, 0 for as fast as possible; default 400), {@code --mark-after=K}
 * with {@code --mark-file=PATH}, {@code --out=DIR} (writes {@code accepted-ids.txt} and {@code
 * load.properties}), {@code --timeout} (10s per request).
 */
public final class OrdersLoad {

  /** How one request ended. */
  public enum Outcome {
    /** A complete 201 response with an order id. */
    ACCEPTED,
    /** A complete response with another status. */
    OTHER_STATUS,
    /** The connection was refused. */
    REFUSED,
    /** Connected, then closed or reset before any byte of a response. */
    NO_RESPONSE,
    /** A response that started and was cut. */
    HALF_SERVED,
    /** Timeouts and other failures. */
    ERROR
  }

  /**
   * One request's end.
   *
   * @param index the request's number, from 0
   * @param outcome how it ended
   * @param status the HTTP status, or 0 if none was read
   * @param orderId the id of the order a 201 created, or -1
   * @param startNanos when the request started ({@link System#nanoTime()})
   * @param endNanos when it ended
   * @param detail what went wrong, or empty
   */
  public record Result(
      int index,
      Outcome outcome,
      int status,
      long orderId,
      long startNanos,
      long endNanos,
      String detail) {}

  /**
   * The load to send.
   *
   * @param host the service's host
   * @param port its port
   * @param requests how many requests in all
   * @param concurrency how many at once, at most
   * @param rate how many requests start per second, at most; 0 for no limit
   * @param markAfter after how many 201s the mark is reached; 0 for never
   * @param markFile the file to create at the mark, or null
   * @param timeout the connect and read timeout of each request
   */
  public record Config(
      String host,
      int port,
      int requests,
      int concurrency,
      int rate,
      int markAfter,
      Path markFile,
      Duration timeout) {
    /** The defaults. */
    public static Config defaults() {
      return new Config("127.0.0.1", 8080, 2000, 32, 400, 0, null, Duration.ofSeconds(10));
    }

    public Config withTarget(String host, int port) {
      return new Config(host, port, requests, concurrency, rate, markAfter, markFile, timeout);
    }

    public Config withLoad(int requests, int concurrency, int rate) {
      return new Config(host, port, requests, concurrency, rate, markAfter, markFile, timeout);
    }

    public Config withMark(int markAfter, Path markFile) {
      return new Config(host, port, requests, concurrency, rate, markAfter, markFile, timeout);
    }
  }

  /**
   * How the load went.
   *
   * @param config the load
   * @param results every request's end, in order of index
   * @param startNanos when the load started
   * @param endNanos when the last request ended
   * @param markNanos when the mark was reached, or 0 if never
   */
  public record Summary(
      Config config, List<Result> results, long startNanos, long endNanos, long markNanos) {

    public long count(Outcome outcome) {
      return results.stream().filter(r -> r.outcome() == outcome).count();
    }

    /** The ids of the orders the client saw a 201 for, ascending. */
    public List<Long> acceptedIds() {
      return results.stream()
          .filter(r -> r.outcome() == Outcome.ACCEPTED)
          .map(Result::orderId)
          .sorted()
          .toList();
    }

    /** How many complete responses had each status other than 201. */
    public Map<Integer, Long> otherStatuses() {
      return results.stream()
          .filter(r -> r.outcome() == Outcome.OTHER_STATUS)
          .collect(Collectors.groupingBy(Result::status, TreeMap::new, Collectors.counting()));
    }

    /** The results with {@code outcome}, in order of index. */
    public List<Result> with(Outcome outcome) {
      return results.stream().filter(r -> r.outcome() == outcome).toList();
    }

    /** A few lines for people. */
    public String describe() {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "load: %d POST /orders to %s:%d, %d at once, %s; took %.2f s%n",
              results.size(),
              config.host(),
              config.port(),
              config.concurrency(),
              config.rate() > 0 ? config.rate() + " started per second" : "no rate limit",
              (endNanos - startNanos) / 1e9));
      if (markNanos != 0) {
        sb.append(
            String.format(
                Locale.ROOT,
                "  mark (%d accepted) reached %.2f s in%n",
                config.markAfter(),
                (markNanos - startNanos) / 1e9));
      }
      line(sb, "accepted (201 with an id)", count(Outcome.ACCEPTED), "");
      Map<Integer, Long> other = otherStatuses();
      line(sb, "other statuses", count(Outcome.OTHER_STATUS), other.isEmpty() ? "" : "" + other);
      line(sb, "refused (connection refused)", count(Outcome.REFUSED), "");
      line(
          sb,
          "no response (closed before any byte)",
          count(Outcome.NO_RESPONSE),
          example(Outcome.NO_RESPONSE));
      line(
          sb,
          "half-served (response cut)",
          count(Outcome.HALF_SERVED),
          example(Outcome.HALF_SERVED));
      line(sb, "errors (timeouts, other)", count(Outcome.ERROR), example(Outcome.ERROR));
      return sb.toString();
    }

    private String example(Outcome outcome) {
      return with(outcome).stream().findFirst().map(r -> "e.g. " + r.detail()).orElse("");
    }

    private static void line(StringBuilder sb, String what, long n, String note) {
      sb.append(
          String.format(
              Locale.ROOT, "  %-38s %6d%s%n", what, n, note.isEmpty() ? "" : "  " + note));
    }

    /**
     * Writes {@code accepted-ids.txt} (one id a line) and {@code load.properties} into {@code dir}.
     */
    public void write(Path dir) throws IOException {
      Files.createDirectories(dir);
      StringBuilder ids = new StringBuilder();
      for (long id : acceptedIds()) ids.append(id).append('\n');
      Files.writeString(dir.resolve("accepted-ids.txt"), ids);
      StringBuilder p = new StringBuilder();
      p.append("requests=").append(results.size()).append('\n');
      for (Outcome o : Outcome.values()) {
        p.append(o.name().toLowerCase(Locale.ROOT)).append('=').append(count(o)).append('\n');
      }
      otherStatuses()
          .forEach((s, n) -> p.append("status.").append(s).append('=').append(n).append('\n'));
      p.append("elapsed_ms=").append((endNanos - startNanos) / 1_000_000).append('\n');
      Files.writeString(dir.resolve("load.properties"), p);
    }
  }

  private OrdersLoad() {}

  /**
   * Sends the load and returns when every request has ended; calls {@code atMark} (if not null)
   * once, on the thread that got the {@code markAfter}-th 201, and creates the mark file.
   */
  public static Summary run(Config config, Runnable atMark) throws InterruptedException {
    Objects.requireNonNull(config, "config");
    int n = config.requests();
    Result[] results = new Result[n];
    AtomicInteger next = new AtomicInteger();
    AtomicInteger accepted = new AtomicInteger();
    AtomicLong markNanos = new AtomicLong();
    long start = System.nanoTime();
    try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int w = 0; w < config.concurrency(); w++) {
        workers.submit(
            () -> {
              for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                if (config.rate() > 0) pace(start + (long) (i * 1e9 / config.rate()));
                Result r = post(config, i);
                results[i] = r;
                if (r.outcome() == Outcome.ACCEPTED
                    && accepted.incrementAndGet() == config.markAfter()) {
                  markNanos.set(System.nanoTime());
                  mark(config, atMark);
                }
              }
              return null;
            });
      }
    }
    if (Thread.interrupted()) throw new InterruptedException("load interrupted");
    long end = Arrays.stream(results).mapToLong(Result::endNanos).max().orElse(start);
    return new Summary(config, List.of(results), start, end, markNanos.get());
  }

  private static void mark(Config config, Runnable atMark) {
    if (config.markFile() != null) {
      try {
        Files.writeString(config.markFile(), "accepted=" + config.markAfter() + "\n");
      } catch (IOException e) {
        System.err.println("OrdersLoad: cannot write the mark file: " + e);
      }
    }
    if (atMark != null) atMark.run();
  }

  private static void pace(long due) {
    for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
      LockSupport.parkNanos(wait);
    }
  }

  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d{1,18})");

  /** One {@code POST /orders} on a connection of its own. */
  public static Result post(Config config, int index) {
    String body = "{\"item\": \"item-" + index + "\", \"quantity\": " + (1 + index % 5) + "}";
    byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
    byte[] head =
        ("POST /orders HTTP/1.1\r\n"
                + "Host: "
                + config.host()
                + ":"
                + config.port()
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + bodyBytes.length
                + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    long t0 = System.nanoTime();
    int timeout = (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis());
    try (Socket s = new Socket()) {
      try {
        s.connect(new InetSocketAddress(config.host(), config.port()), timeout);
        s.setSoTimeout(timeout);
        s.setTcpNoDelay(true);
      } catch (ConnectException e) {
        return new Result(index, Outcome.REFUSED, 0, -1, t0, System.nanoTime(), e.getMessage());
      } catch (SocketTimeoutException e) {
        return new Result(index, Outcome.ERROR, 0, -1, t0, System.nanoTime(), "connect timeout");
      } catch (IOException e) {
        // accepted by the kernel, then reset: the listener closed with it in its backlog
        return new Result(
            index, Outcome.NO_RESPONSE, 0, -1, t0, System.nanoTime(), "reset while connecting");
      }
      try {
        OutputStream out = s.getOutputStream();
        out.write(head);
        out.write(bodyBytes);
        out.flush();
      } catch (IOException e) {
        return read(s, index, t0, e); // a response may still be there (an early 413, say)
      }
      return read(s, index, t0, null);
    } catch (IOException e) { // closing the socket
      return new Result(index, Outcome.ERROR, 0, -1, t0, System.nanoTime(), e.toString());
    }
  }

  private static Result read(Socket s, int index, long t0, IOException writeFailure) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    IOException cut = null;
    try {
      InputStream in = s.getInputStream();
      byte[] b = new byte[2048];
      int n;
      while ((n = in.read(b)) >= 0) {
        buf.write(b, 0, n);
        if (Response.complete(buf.toByteArray())) break;
      }
    } catch (IOException e) {
      cut = e;
    }
    long end = System.nanoTime();
    byte[] bytes = buf.toByteArray();
    if (bytes.length == 0) {
      if (cut instanceof SocketTimeoutException) {
        return new Result(index, Outcome.ERROR, 0, -1, t0, end, "no response within the timeout");
      }
      String why =
          writeFailure != null
              ? "sending failed: " + writeFailure.getMessage()
              : cut != null ? cut.getMessage() : "closed";
      return new Result(index, Outcome.NO_RESPONSE, 0, -1, t0, end, why);
    }
    Response r = Response.parse(bytes);
    if (r == null || !r.complete()) {
      return new Result(
          index,
          Outcome.HALF_SERVED,
          r == null ? 0 : r.status(),
          -1,
          t0,
          end,
          bytes.length
              + " bytes, then "
              + (cut != null ? cut.getMessage() : "closed")
              + (r == null ? " (in the headers)" : " (in the body)"));
    }
    if (r.status() == 201) {
      Matcher m = ID.matcher(r.body());
      if (m.find()) {
        return new Result(index, Outcome.ACCEPTED, 201, Long.parseLong(m.group(1)), t0, end, "");
      }
      return new Result(index, Outcome.ERROR, 201, -1, t0, end, "201 without an id: " + r.body());
    }
    return new Result(index, Outcome.OTHER_STATUS, r.status(), -1, t0, end, r.body().strip());
  }

  /**
   * A response as read so far.
   *
   * @param status its status
   * @param body its body as text (so far)
   * @param complete whether the whole body is there
   */
  private record Response(int status, String body, boolean complete) {
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3})[^\r\n]*");

    /** Whether {@code bytes} hold a whole response with a Content-Length (or chunked). */
    static boolean complete(byte[] bytes) {
      Response r = parse(bytes);
      return r != null && r.complete();
    }

    /** The response in {@code bytes}, or null if its headers are not all there (or malformed). */
    static Response parse(byte[] bytes) {
      String text = new String(bytes, StandardCharsets.ISO_8859_1);
      int endOfHeaders = text.indexOf("\r\n\r\n");
      if (endOfHeaders < 0) return null;
      String[] lines = text.substring(0, endOfHeaders).split("\r\n");
      Matcher m = STATUS.matcher(lines[0]);
      if (!m.matches()) return null;
      int status = Integer.parseInt(m.group(1));
      long length = -1;
      boolean chunked = false;
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon < 0) continue;
        String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = lines[i].substring(colon + 1).trim();
        if (name.equals("content-length")) {
          try {
            length = Long.parseLong(value);
          } catch (NumberFormatException e) {
            return null; // malformed: not a response this client understands
          }
        }
        if (name.equals("transfer-encoding"))
          chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
      }
      byte[] body = Arrays.copyOfRange(bytes, endOfHeaders + 4, bytes.length);
      String bodyText = new String(body, StandardCharsets.UTF_8);
      boolean complete;
      if (chunked) {
        complete = bodyText.endsWith("0\r\n\r\n");
      } else if (length >= 0) {
        complete = body.length >= length;
      } else {
        complete = status == 204 || status == 304 || (status >= 100 && status < 200);
      }
      return new Response(status, bodyText, complete);
    }
  }

  // ---- the command line

  /**
   * Sends the load, prints the summary, writes it with {@code --out}; exits 2 for a bad argument.
   */
  public static void main(String[] args) throws Exception {
    Options options = new Options();
    Config config;
    try {
      if (!Args.read(options, args)) {
        System.out.print(USAGE);
        return;
      }
      config = options.config();
    } catch (IllegalArgumentException e) {
      System.err.println("OrdersLoad: " + e.getMessage());
      System.exit(Args.BAD_ARGUMENTS);
      return;
    }
    Summary summary = run(config, null);
    System.out.print(summary.describe());
    if (options.out != null) summary.write(options.out);
  }

  static final String USAGE =
      """
      OrdersLoad: POST /orders load on the orders service; prints how each request ended.
        --host=HOST            the service's host (default 127.0.0.1)
        --port=N               the service's port (default 8080)
        --requests=N           how many requests (default 2000)
        --concurrency=N        most requests at once (default 32)
        --rate=N               requests started per second (default 400; 0: as fast as possible)
        --mark-after=K         create the --mark-file when the K-th order is accepted
        --mark-file=PATH       the marker file of --mark-after
        --out=DIR              write accepted-ids.txt and load.properties there
        --timeout=DURATION     each request's budget (default 10s)
      Exit codes: 0 done, 2 bad argument.
      """;

  /** The command line's options, each checked as it is read; see {@link #USAGE}. */
  @Command(name = "OrdersLoad")
  private static final class Options {
    private final Config defaults = Config.defaults();
    String host = defaults.host();
    int port = defaults.port(), requests = defaults.requests();
    int concurrency = defaults.concurrency(), rate = defaults.rate(), markAfter = 0;
    Path markFile, out;
    Duration timeout = defaults.timeout();

    @Option(
        names = {"--help", "-h"},
        usageHelp = true)
    boolean help;

    Config config() {
      if (markAfter > 0 && markFile == null) {
        throw new IllegalArgumentException("--mark-after needs --mark-file");
      }
      return new Config(host, port, requests, concurrency, rate, markAfter, markFile, timeout);
    }

    @Option(names = "--host")
    void host(String value) {
      host = Args.required(Args.arg("--host", value), value);
    }

    @Option(names = "--port")
    void port(String value) {
      port = Args.number(Args.arg("--port", value), value, 1, 65535);
    }

    @Option(names = "--requests")
    void requests(String value) {
      requests = Args.number(Args.arg("--requests", value), value, 1, 10_000_000);
    }

    @Option(names = "--concurrency")
    void concurrency(String value) {
      concurrency = Args.number(Args.arg("--concurrency", value), value, 1, 10_000);
    }

    @Option(names = "--rate")
    void rate(String value) {
      rate = Args.number(Args.arg("--rate", value), value, 0, 1_000_000);
    }

    @Option(names = "--mark-after")
    void markAfter(String value) {
      markAfter = Args.number(Args.arg("--mark-after", value), value, 0, Integer.MAX_VALUE);
    }

    @Option(names = "--mark-file")
    void markFile(String value) {
      markFile = Path.of(Args.required(Args.arg("--mark-file", value), value));
    }

    @Option(names = "--out")
    void out(String value) {
      out = Path.of(Args.required(Args.arg("--out", value), value));
    }

    @Option(names = "--timeout")
    void timeout(String value) {
      timeout = Args.duration(Args.arg("--timeout", value), value);
    }
  }
}

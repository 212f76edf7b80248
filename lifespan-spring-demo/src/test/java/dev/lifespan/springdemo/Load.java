package dev.lifespan.springdemo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code POST /orders} over raw sockets, one connection per request ({@code Connection: close}), so
 * that every way a request can end is told apart: a refused connection means nobody listens, a
 * connection closed before any byte means the server dropped it, a 5xx is the server's answer.
 */
final class Load {
  private Load() {}

  /** How one request ended. */
  enum Outcome {
    /** 201 with an order id. */
    ACCEPTED,
    /** A complete response with another status. */
    OTHER_STATUS,
    /** The connection was refused. */
    REFUSED,
    /** Connected, then closed or reset before any byte of a response. */
    NO_RESPONSE,
    /** A response that started and was cut. */
    HALF_SERVED,
    /** Timeouts and anything else. */
    ERROR
  }

  /**
   * One request's end.
   *
   * @param outcome how it ended
   * @param status the HTTP status, or 0
   * @param id the order id of a 201, or -1
   * @param startMillis when it started, wall clock (to compare with the service's log lines)
   * @param startNanos when it started, {@link System#nanoTime()}
   * @param endNanos when it ended
   * @param detail what went wrong, or empty
   */
  record Result(
      Outcome outcome,
      int status,
      long id,
      long startMillis,
      long startNanos,
      long endNanos,
      String detail) {
    boolean failed() {
      return outcome != Outcome.ACCEPTED;
    }

    @Override
    public String toString() {
      return outcome + (status != 0 ? " " + status : "") + (detail.isEmpty() ? "" : ": " + detail);
    }
  }

  /**
   * Sends requests from {@code concurrency} connections at a time, each starting when the previous
   * one of its worker ended, until {@code stop} says so or {@code max} requests were sent; calls
   * {@code each} with every result (from the workers' threads); returns them all.
   */
  static List<Result> run(
      int port, int concurrency, int max, BooleanSupplier stop, Consumer<Result> each)
      throws InterruptedException {
    List<Result> results = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger sent = new AtomicInteger();
    try (ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int w = 0; w < concurrency; w++) {
        workers.submit(
            () -> {
              for (int i = sent.getAndIncrement(); i < max && !stop.getAsBoolean(); ) {
                Result r = post(port, i, Duration.ofSeconds(30));
                results.add(r);
                each.accept(r);
                i = sent.getAndIncrement();
              }
              return null;
            });
      }
    }
    if (Thread.interrupted()) throw new InterruptedException("load interrupted");
    return List.copyOf(results);
  }

  private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d{1,18})");
  private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3})");

  /** One {@code POST /orders} on a connection of its own. */
  static Result post(int port, int index, Duration timeout) {
    byte[] body =
        ("{\"item\": \"item-" + index + "\", \"quantity\": " + (1 + index % 5) + "}")
            .getBytes(StandardCharsets.UTF_8);
    byte[] head =
        ("POST /orders HTTP/1.1\r\nHost: 127.0.0.1:"
                + port
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length
                + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    long wall = System.currentTimeMillis();
    long t0 = System.nanoTime();
    int ms = (int) timeout.toMillis();
    try (Socket s = new Socket()) {
      try {
        s.connect(new InetSocketAddress("127.0.0.1", port), ms);
        s.setSoTimeout(ms);
      } catch (ConnectException e) {
        return new Result(Outcome.REFUSED, 0, -1, wall, t0, System.nanoTime(), e.getMessage());
      } catch (SocketTimeoutException e) {
        return new Result(Outcome.ERROR, 0, -1, wall, t0, System.nanoTime(), "connect timeout");
      } catch (IOException e) {
        return new Result(
            Outcome.NO_RESPONSE, 0, -1, wall, t0, System.nanoTime(), "reset while connecting");
      }
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      IOException cut = null;
      try {
        OutputStream out = s.getOutputStream();
        out.write(head);
        out.write(body);
        out.flush();
        InputStream in = s.getInputStream();
        in.transferTo(buf); // Connection: close: the response ends with the connection
      } catch (IOException e) {
        cut = e;
      }
      long end = System.nanoTime();
      String text = buf.toString(StandardCharsets.UTF_8);
      if (text.isEmpty()) {
        Outcome o = cut instanceof SocketTimeoutException ? Outcome.ERROR : Outcome.NO_RESPONSE;
        return new Result(o, 0, -1, wall, t0, end, cut == null ? "closed" : cut.toString());
      }
      Matcher m = STATUS.matcher(text);
      if (!m.lookingAt()) {
        return new Result(Outcome.HALF_SERVED, 0, -1, wall, t0, end, "no status line: " + text);
      }
      int status = Integer.parseInt(m.group(1));
      int bodyAt = text.indexOf("\r\n\r\n");
      if (cut != null || bodyAt < 0) {
        return new Result(Outcome.HALF_SERVED, status, -1, wall, t0, end, String.valueOf(cut));
      }
      if (status == 201) {
        Matcher id = ID.matcher(text.substring(bodyAt));
        if (id.find()) {
          return new Result(Outcome.ACCEPTED, 201, Long.parseLong(id.group(1)), wall, t0, end, "");
        }
        return new Result(Outcome.HALF_SERVED, 201, -1, wall, t0, end, "201 without an id");
      }
      return new Result(
          Outcome.OTHER_STATUS, status, -1, wall, t0, end, text.substring(bodyAt).strip());
    } catch (IOException e) { // closing
      return new Result(Outcome.ERROR, 0, -1, wall, t0, System.nanoTime(), e.toString());
    }
  }

  /** How many of {@code results} ended with each outcome, for failure messages. */
  static String describe(List<Result> results) {
    StringBuilder sb =
        new StringBuilder(String.format(Locale.ROOT, "%d requests:", results.size()));
    for (Outcome o : Outcome.values()) {
      List<Result> with = results.stream().filter(r -> r.outcome() == o).toList();
      if (!with.isEmpty()) {
        sb.append(' ').append(o).append(' ').append(with.size());
        if (o != Outcome.ACCEPTED) sb.append(" (e.g. ").append(with.getFirst()).append(')');
        sb.append(';');
      }
    }
    return sb.toString();
  }
}

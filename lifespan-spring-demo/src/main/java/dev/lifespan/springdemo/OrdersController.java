package dev.lifespan.springdemo;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/** {@code POST /orders}, {@code GET /orders/{id}} and {@code GET /ping}. */
@RestController
public class OrdersController {
  private final Confirmations confirmations;
  private final OrderStore store;
  private final Counters counters;
  private final int orderMillis;

  OrdersController(
      Confirmations confirmations, OrderStore store, Counters counters, DemoProperties demo) {
    this.confirmations = confirmations;
    this.store = store;
    this.counters = counters;
    this.orderMillis = demo.orderMs();
  }

  /** Takes an order: 201 with its id, once the order and its confirmation are durable. */
  @PostMapping("/orders")
  ResponseEntity<Map<String, Long>> create(@RequestBody NewOrder order)
      throws InterruptedException {
    NewOrder valid = order.valid();
    if (orderMillis > 0) Thread.sleep(orderMillis); // --order-ms: the request's own work
    long id = confirmations.take(valid);
    counters.taken(id);
    return ResponseEntity.created(URI.create("/orders/" + id)).body(Map.of("id", id));
  }

  /**
   * A body that is not an order's JSON: 400 with one line that says what was wrong, as Spring's
   * error body's {@code message}, instead of Spring's "Failed to read request".
   */
  @ExceptionHandler(HttpMessageNotReadableException.class)
  void unreadable(HttpMessageNotReadableException e, HttpServletResponse response)
      throws IOException {
    String reason = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
    if (reason.startsWith("Required request body is missing")) reason = "the body is empty";
    response.sendError(
        HttpStatus.BAD_REQUEST.value(),
        "the body must be an order, {\"item\": \"book\", \"quantity\": 2}: " + reason);
  }

  /** The order and its confirmation, or 404. */
  @GetMapping("/orders/{id}")
  Map<String, Object> show(@PathVariable("id") long id) {
    return store
        .find(id)
        .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no order " + id));
  }

  /** A trivial endpoint, for measuring the cost of the web stack. */
  @GetMapping("/ping")
  String ping() {
    return "pong";
  }
}

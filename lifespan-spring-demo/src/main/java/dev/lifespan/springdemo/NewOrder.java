package dev.lifespan.springdemo;

import org.springframework.http.HttpStatus;
import org.springframework.web.server.ResponseStatusException;

/**
 * The body of {@code POST /orders}: {@code {"item": "book", "quantity": 2}}.
 *
 * @param item what is ordered: not blank, at most {@value #MAX_ITEM_LENGTH} characters
 * @param quantity how many: 1 to {@value #MAX_QUANTITY}
 */
public record NewOrder(String item, Integer quantity) {
  static final int MAX_ITEM_LENGTH = 200;
  static final int MAX_QUANTITY = 1_000_000;

  /**
   * This order, checked.
   *
   * @throws ResponseStatusException 400 naming the field that is missing or out of range
   */
  NewOrder valid() {
    if (item == null) throw bad("field \"item\" must be a non-blank string; it is missing");
    if (item.isBlank())
      throw bad("field \"item\" must be a non-blank string, not \"" + item + "\"");
    int length = item.codePointCount(0, item.length());
    if (length > MAX_ITEM_LENGTH) {
      throw bad("field \"item\" must be at most " + MAX_ITEM_LENGTH + " characters, not " + length);
    }
    if (item.chars().anyMatch(Character::isISOControl)) {
      throw bad("field \"item\" must not hold control characters");
    }
    if (quantity == null) {
      throw bad(
          "field \"quantity\" must be a whole number from 1 to "
              + MAX_QUANTITY
              + "; it is missing");
    }
    if (quantity < 1 || quantity > MAX_QUANTITY) {
      throw bad(
          "field \"quantity\" must be a whole number from 1 to "
              + MAX_QUANTITY
              + ", not "
              + quantity);
    }
    return new NewOrder(item.strip(), quantity);
  }

  private static ResponseStatusException bad(String reason) {
    return new ResponseStatusException(HttpStatus.BAD_REQUEST, reason);
  }
}

package dev.lifespan.leakcheck.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {
  @Test
  void parsesNestedObjectsAndArraysInOrder() {
    Object value = Json.parse(" {\"b\": [1, {\"c\": []}, {}], \"a\": null} ");

    Map<String, Object> expected = new HashMap<>();
    expected.put("b", List.of(new BigDecimal("1"), Map.of("c", List.of()), Map.of()));
    expected.put("a", null);
    assertEquals(expected, value);
    assertEquals(List.of("b", "a"), List.copyOf(((Map<?, ?>) value).keySet()));
  }

  @Test
  void parsesLiteralsAndNumbers() {
    assertEquals(
        List.of(
            true, false, new BigDecimal("-12.5e3"), new BigDecimal("0"), new BigDecimal("7E-2")),
        Json.parse("[true,false,-12.5e3,0,7E-2]"));
  }

  @Test
  void decodesEveryEscape() {
    assertEquals(
        "q\" b\\ s/ \b\f\n\r\t é \u2028",
        Json.parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u2028\""));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "{",
        "[1,]",
        "{\"a\" 1}",
        "{a:1}",
        "\"open",
        "\"bad \\x\"",
        "\"\\u12\"",
        "01",
        "-",
        "1.",
        "1e",
        "tru",
        "nul",
        "[1] 2",
        "\"tab\there\""
      })
  void rejectsMalformedInputWithOffset(String text) {
    var e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
    assertTrue(e.getMessage().startsWith("Malformed JSON at offset "), e.getMessage());
  }
}

package dev.lifespan.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The flat JSON object parser and the string quoting of the orders service. */
class JsonTest {

  @Test
  void parsesFlatObjectsWithEveryKindOfValue() {
    Map<String, Object> m =
        Json.parseFlatObject(
            " {\"s\": \"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\", \"n\": -12.5e1, \"z\": 0,"
                + " \"t\": true, \"f\": false, \"x\": null, \"\": \"\"}\r\n");
    assertEquals(List.of("s", "n", "z", "t", "f", "x", ""), List.copyOf(m.keySet()));
    assertEquals("a\"b\\c/d\n\té\uD83D\uDE00", m.get("s"));
    assertEquals(0, new BigDecimal("-125").compareTo((BigDecimal) m.get("n")));
    assertEquals(BigDecimal.ZERO, m.get("z"));
    assertEquals(Boolean.TRUE, m.get("t"));
    assertEquals(Boolean.FALSE, m.get("f"));
    assertSame(Json.NULL, m.get("x"));
    assertEquals("", m.get(""));
    assertEquals(Map.of(), Json.parseFlatObject("{}"));
    assertEquals(Map.of(), Json.parseFlatObject(" { } "));
  }

  @Test
  void refusesWhatIsNotOneFlatObjectWithAShortMessage() {
    Map<String, String> bad =
        Map.ofEntries(
            Map.entry("", "empty body"),
            Map.entry("   ", "empty body"),
            Map.entry("{", "expected a field name in double quotes at the end of the body"),
            Map.entry("{\"a\" 1}", "expected ':' after field name \"a\" at offset 5"),
            Map.entry("{\"a\": }", "expected a value for \"a\""),
            Map.entry("{\"a\": 1,}", "expected a field name"),
            Map.entry("{\"a\": 1 \"b\": 2}", "expected ',' or '}' after the value of \"a\""),
            Map.entry("{\"a\": 1, \"a\": 2}", "duplicate field \"a\""),
            Map.entry("{\"a\": {}}", "field \"a\" holds an object"),
            Map.entry("{\"a\": []}", "field \"a\" holds an array"),
            Map.entry("{\"a\": 1} x", "unexpected 'x' after the object, at offset 9"),
            Map.entry("{\"a\": 1}{}", "unexpected '{' after the object"),
            Map.entry("[]", "expected a JSON object at offset 0"),
            Map.entry("{\"a\": 01}", "expected ',' or '}'"),
            Map.entry("{\"a\": -}", "malformed number"),
            Map.entry("{\"a\": 1.}", "digits expected after '.'"),
            Map.entry("{\"a\": 1e}", "digits expected in the exponent"),
            Map.entry("{\"a\": 1e99999999999}", "number out of range"),
            Map.entry("{\"a\": +1}", "expected a value"),
            Map.entry("{\"a\": tru}", "expected true"),
            Map.entry("{\"a\": \"x}", "unterminated string"),
            Map.entry("{\"a\": \"\\x\"}", "unknown escape '\\x'"),
            Map.entry("{\"a\": \"\\u12\"}", "malformed \\u escape"),
            Map.entry("{\"a\": \"line\nbreak\"}", "control character in a string"),
            Map.entry("{'a': 1}", "expected a field name in double quotes"));
    for (var e : bad.entrySet()) {
      Json.MalformedException x =
          assertThrows(
              Json.MalformedException.class, () -> Json.parseFlatObject(e.getKey()), e.getKey());
      assertTrue(
          x.getMessage().contains(e.getValue()),
          e.getKey() + " -> " + x.getMessage() + ", expected: " + e.getValue());
      assertTrue(x.getMessage().length() < 120, x.getMessage());
    }
  }

  @Test
  void quotesStringsSoThatTheParserReadsThemBack() {
    String s = "a\"b\\c\n\r\t\u0001\u2028é😀";
    String quoted = Json.quote(s);
    assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u2028é😀\"", quoted);
    assertEquals(s, Json.parseFlatObject("{\"k\": " + quoted + "}").get("k"));
  }
}

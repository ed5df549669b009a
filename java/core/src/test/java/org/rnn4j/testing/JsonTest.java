package org.rnn4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Json}, the tests' JSON reader: exact numbers, order, paths in messages, strictness. */
class JsonTest {

    private static void assertSameBits(double want, double got, String what) {
        assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got),
                () -> what + ": want " + want + ", got " + got);
    }

    @Test
    void doublesComeBackBitForBitFromTheirShortestText() {
        SplittableRandom r = new SplittableRandom(7);
        StringBuilder b = new StringBuilder("[");
        List<Double> want = new ArrayList<>();
        for (int i = 0; i < 20000; i++) {
            // every exponent, both signs: random bit patterns that are finite
            double d = Double.longBitsToDouble(r.nextLong());
            if (!Double.isFinite(d)) {
                continue;
            }
            want.add(d);
            b.append(want.size() > 1 ? "," : "").append(Double.toString(d));
        }
        double[] edge = {0.1, -0.0, 0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE,
            -Double.MAX_VALUE, 1.0 / 3, Math.PI, 1e23, 9007199254740993.0};
        for (double d : edge) {
            want.add(d);
            b.append(',').append(Double.toString(d));
        }
        double[] got = Json.parse(b.append(']').toString()).asDoubles();
        assertEquals(want.size(), got.length);
        for (int i = 0; i < got.length; i++) {
            assertSameBits(want.get(i), got[i], "element " + i);
        }
    }

    @Test
    void numbersReadAsDoubleParseDoubleReadsTheirText() {
        // Python's repr ("5e-324", "1e+300"), long decimals, integers beyond 2^53 and beyond a long
        String[] texts = {"5e-324", "1e+300", "1E-7", "-2.5e-300", "0.1000000000000000055511151231257827",
            "2.4703282292062328e-324", "9007199254740993", "18446744073709551615", "-0", "-0.0", "123456789012345678901234567890"};
        for (String t : texts) {
            Json n = Json.parse(t);
            assertTrue(n.isNumber());
            assertSameBits(Double.parseDouble(t), n.asDouble(), t);
            assertEquals(t, n.numberText());
        }
    }

    @Test
    void integersAreExactAndRefuseWhatDoesNotFit() {
        Json a = Json.parse("[9223372036854775807, -9223372036854775808, 4294967295, 2147483647, -2147483648,"
                + " 18446744073709551615, 9223372036854775808, 2147483648, 1.0, 1e3, 7]");
        assertEquals(Long.MAX_VALUE, a.get(0).asLong());
        assertEquals(Long.MIN_VALUE, a.get(1).asLong());
        assertEquals(4294967295L, a.get(2).asLong());
        assertEquals(Integer.MAX_VALUE, a.get(3).asInt());
        assertEquals(Integer.MIN_VALUE, a.get(4).asInt());
        assertEquals(new BigInteger("18446744073709551615"), a.get(5).asBigInteger());
        assertEquals(-1L, a.get(5).asBigInteger().longValue());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.get(6).asLong());
        assertEquals("$[6] = 9223372036854775808 does not fit a long", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> a.get(7).asInt());
        assertEquals("$[7] = 2147483648 does not fit an int", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> a.get(8).asInt());
        assertEquals("$[8] = 1.0 is not an integer", e.getMessage());
        assertThrows(IllegalStateException.class, () -> a.get(9).asLong());
        assertThrows(IllegalStateException.class, () -> a.get(9).asBigInteger());
        assertTrue(a.get(10).isIntegral());
        assertFalse(a.get(8).isIntegral());
        assertEquals(7, a.get(10).asInt());
        assertEquals(7.0, a.get(10).asDouble());
        e = assertThrows(IllegalStateException.class, () -> a.asInts());
        assertEquals("$[0] = 9223372036854775807 does not fit an int", e.getMessage());
    }

    @Test
    void objectsKeepTheDocumentsOrderAndNameMissingFieldsByPath() {
        Json root = Json.parse("{\"z\": 1, \"a\": {\"cases\": [{\"x\": true}, {\"y\": null}]}, \"m\": \"s\"}");
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(root.keys()));
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(root.fields().keySet()));
        assertEquals(3, root.size());
        Json cases = root.get("a").get("cases");
        assertEquals(2, cases.size());
        assertTrue(cases.get(0).get("x").asBoolean());
        assertTrue(cases.get(1).get("y").isNull());
        assertTrue(cases.get(1).has("y"));
        assertNull(cases.get(1).opt("x"));
        assertEquals("$.a.cases[1].y", cases.get(1).get("y").path());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cases.get(1).get("x"));
        assertEquals("$.a.cases[1] has no field 'x' (it has [y])", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> cases.get(2));
        assertEquals("$.a.cases has 2 elements, no [2]", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> root.get("m").asDouble());
        assertEquals("$.m is a string, not a number", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> root.get("z").asText());
        assertEquals("$.z is a number, 1, not a string", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> root.iterator());
        assertEquals("$ is an object, not an array", e.getMessage());
        assertThrows(IllegalStateException.class, () -> cases.get("x"));
        assertThrows(IllegalStateException.class, () -> root.get("z").size());
        List<Boolean> seen = new ArrayList<>();
        for (Json c : cases) {
            seen.add(c.has("x"));
        }
        assertEquals(List.of(true, false), seen);
        assertEquals(2, cases.stream().count());
        assertThrows(UnsupportedOperationException.class, () -> root.fields().put("q", root));
    }

    @Test
    void stringsAndArraysOfScalars() {
        Json root = Json.parse(new ByteArrayInputStream(("{\"s\": [\"h\\u00e9\", \"\\uD835\\uDD38\\n\\\"\", \"\"],"
                + " \"m\": {\"format\": \"rnn4j\", \"t\": \"\u20ac\"}, \"i\": [3, -1], \"l\": [4294967296]}")
                .getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of("h\u00e9", "\uD835\uDD38\n\"", ""), root.get("s").asStrings());
        assertEquals(Map.of("format", "rnn4j", "t", "\u20ac"), root.get("m").asStringMap());
        assertArrayEquals(new int[] {3, -1}, root.get("i").asInts());
        assertArrayEquals(new long[] {4294967296L}, root.get("l").asLongs());
        assertArrayEquals(new double[] {3, -1}, root.get("i").asDoubles());
        assertThrows(IllegalStateException.class, () -> root.get("s").asDoubles());
        assertEquals("{\"s\":[\"h\u00e9\",\"\uD835\uDD38\\n\\\"\",\"\"],\"m\":{\"format\":\"rnn4j\",\"t\":\"\u20ac\"},"
                + "\"i\":[3,-1],\"l\":[4294967296]}", root.toString());
    }

    @Test
    void refusesWhatIsNotOneJsonValue() {
        String[] bad = {"", "  ", "{", "[1,]", "{\"a\": 1, \"a\": 2}", "[1] [2]", "1 x", "NaN", "[Infinity]",
            "{'a': 1}", "[01]", "[.5]"};
        for (String text : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text),
                    () -> "'" + text + "' was accepted");
            assertTrue(e.getMessage().startsWith("not JSON"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.parse("{\"a\": {\"b\": 1, \"b\": 2}}"));
        assertEquals("not JSON for tests: duplicate key at $.a.b", e.getMessage());
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> Json.resource(JsonTest.class, "/org/rnn4j/testing/absent.json"));
        assertEquals("classpath resource /org/rnn4j/testing/absent.json is missing", missing.getMessage());
        assertEquals(List.of(), Json.parse(" [] \n").elements());
    }
}

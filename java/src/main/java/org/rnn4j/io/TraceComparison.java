package org.rnn4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Compares two traces value by value: integers exactly, floating-point values within
 * {@code |got - want| <= rtol * |want| + atol}. Keys, lengths and line counts must agree.
 */
public final class TraceComparison {

    /** The outcome: how many values were compared, the worst deviation and where, and every failure (first 20). */
    public record Result(int lines, int values, double maxAbsDeviation, double maxRelDeviation, String worstAt,
                         List<String> failures, int failureCount) {
        public boolean passed() {
            return failureCount == 0;
        }

        public String summary() {
            return String.format("%d lines, %d values compared; max |got - want| %.3e, max relative %.3e (at %s); %s",
                    lines, values, maxAbsDeviation, maxRelDeviation, worstAt == null ? "-" : worstAt,
                    passed() ? "all within tolerance" : failureCount + " outside tolerance");
        }
    }

    private final double rtol;
    private final double atol;
    private int values;
    private double maxAbs;
    private double maxRel;
    private String worstAt;
    private final List<String> failures = new ArrayList<>();
    private int failureCount;

    private TraceComparison(double rtol, double atol) {
        this.rtol = rtol;
        this.atol = atol;
    }

    /** Reads a JSON-lines file, skipping blank lines. */
    public static List<JsonNode> read(Path path) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(path)) {
            if (!line.isBlank()) {
                out.add(Traces.JSON.readTree(line));
            }
        }
        return out;
    }

    public static Result compare(List<JsonNode> got, List<JsonNode> want, double rtol, double atol) {
        TraceComparison c = new TraceComparison(rtol, atol);
        if (got.size() != want.size()) {
            c.fail("trace", "has " + got.size() + " lines, expected " + want.size());
        }
        for (int i = 0; i < Math.min(got.size(), want.size()); i++) {
            c.node("line " + (i + 1), got.get(i), want.get(i));
        }
        return new Result(Math.min(got.size(), want.size()), c.values, c.maxAbs, c.maxRel, c.worstAt,
                List.copyOf(c.failures), c.failureCount);
    }

    private void node(String at, JsonNode got, JsonNode want) {
        if (want.isObject()) {
            if (!got.isObject() || got.size() != want.size()) {
                fail(at, "expected an object with keys " + keys(want) + ", got " + got);
                return;
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = want.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode g = got.get(e.getKey());
                if (g == null) {
                    fail(at, "missing key '" + e.getKey() + "'");
                } else {
                    node(at + " " + e.getKey(), g, e.getValue());
                }
            }
        } else if (want.isArray()) {
            if (!got.isArray() || got.size() != want.size()) {
                fail(at, "expected an array of " + want.size() + ", got " + got);
                return;
            }
            for (int i = 0; i < want.size(); i++) {
                node(at + "[" + i + "]", got.get(i), want.get(i));
            }
        } else if (want.isIntegralNumber()) {
            values++;
            if (!got.isIntegralNumber() || got.longValue() != want.longValue()) {
                fail(at, "got " + got + ", expected exactly " + want);
            }
        } else if (want.isNumber()) {
            values++;
            if (!got.isNumber()) {
                fail(at, "got " + got + ", expected a number");
                return;
            }
            double g = got.doubleValue();
            double w = want.doubleValue();
            double dev = Math.abs(g - w);
            double rel = dev / Math.max(Math.abs(w), Double.MIN_NORMAL);
            if (dev > maxAbs || Double.isNaN(dev)) {
                maxAbs = dev;
            }
            if (rel > maxRel || Double.isNaN(rel)) {
                maxRel = rel;
                worstAt = at;
            }
            if (!(dev <= rtol * Math.abs(w) + atol)) {
                fail(at, String.format("got %s, expected %s (|diff| %.3e > %.1e * |want| + %.1e)", g, w, dev, rtol,
                        atol));
            }
        } else if (!got.equals(want)) {
            values++;
            fail(at, "got " + got + ", expected " + want);
        }
    }

    private static List<String> keys(JsonNode o) {
        List<String> k = new ArrayList<>();
        o.fieldNames().forEachRemaining(k::add);
        return k;
    }

    private void fail(String at, String what) {
        failureCount++;
        if (failures.size() < 20) {
            failures.add(at + ": " + what);
        }
    }
}

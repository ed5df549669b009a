package org.rnn4j.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

    /**
     * The outcome: how many values were compared, the worst deviation and where, and every failure (first 20).
     *
     * @param lines           how many line pairs were compared (the shorter trace's length)
     * @param values          how many leaf values were compared
     * @param maxAbsDeviation the largest {@code |got - want|} over the floating-point values
     * @param maxRelDeviation the largest {@code |got - want| / |want|}
     * @param worstAt         where the largest relative deviation is, e.g. {@code "line 3 loss"}; null if none
     * @param failures        the first 20 failures, each {@code "WHERE: WHAT"}
     * @param failureCount    how many failures there were in all
     */
    public record Result(int lines, int values, double maxAbsDeviation, double maxRelDeviation, String worstAt,
                         List<String> failures, int failureCount) {
        /**
         * Whether the traces agree.
         *
         * @return true when nothing failed
         */
        public boolean passed() {
            return failureCount == 0;
        }

        /**
         * The one-line summary {@code rnn4j compare} prints last.
         *
         * @return the counts, the worst deviations and where, and the verdict
         */
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

    /** A trace file that is not JSON lines: its first bad line (1-based) and what is wrong with it. */
    public static final class MalformedTraceException extends IOException {
        private static final long serialVersionUID = 1L;
        /** The bad line, counted from 1. */
        private final int line;

        MalformedTraceException(int line, String why) {
            super("line " + line + ": " + why);
            this.line = line;
        }

        /**
         * The bad line, counted from 1 as editors count.
         *
         * @return the line number, from 1
         */
        public int line() {
            return line;
        }
    }

    /** One JSON value per line, nothing after it. */
    private static final ObjectReader LINE = Traces.JSON.reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /**
     * Reads a JSON-lines file, skipping blank lines.
     *
     * @param path the trace file
     * @return one JSON value per non-blank line, in order; empty for an empty file
     * @throws IOException             when the file cannot be read
     * @throws MalformedTraceException naming the first line that is not UTF-8 text or not one JSON value (a binary
     *                                 or truncated file)
     */
    public static List<JsonNode> read(Path path) throws IOException {
        byte[] bytes = Files.readAllBytes(path);
        List<JsonNode> out = new ArrayList<>();
        int lineNumber = 0;
        for (int start = 0; start < bytes.length; ) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') {
                end++;
            }
            lineNumber++;
            String line;
            try {
                line = StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, start, end - start)).toString();
            } catch (CharacterCodingException e) {
                throw new MalformedTraceException(lineNumber, "not UTF-8 text (a binary file?)");
            }
            if (line.indexOf('\0') >= 0) {
                throw new MalformedTraceException(lineNumber, "holds a NUL byte (a binary file?)");
            }
            if (!line.isBlank()) {
                try {
                    out.add(LINE.readTree(line));
                } catch (JsonProcessingException e) {
                    throw new MalformedTraceException(lineNumber, "not one JSON value (" + shortReason(e)
                            + (end == bytes.length ? "; the file may be truncated" : "") + ")");
                }
            }
            start = end + 1;
        }
        return out;
    }

    /** Jackson's reason, without its location (the line is named already) and on one line. */
    private static String shortReason(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        if (m == null) {
            return "invalid JSON";
        }
        int nl = m.indexOf('\n');
        m = nl < 0 ? m : m.substring(0, nl);
        int marker = m.indexOf(" (start marker at");
        m = marker < 0 ? m : m.substring(0, marker);
        return m.length() > 120 ? m.substring(0, 117) + "..." : m.strip();
    }

    /**
     * Compares two traces line by line: objects must have the same keys, arrays the same lengths, integers must be
     * equal, floating-point values within {@code rtol * |want| + atol} (a NaN never is), anything else equal. A
     * difference in line count is one failure; the common lines are still compared.
     *
     * @param got  the trace to check
     * @param want the reference trace
     * @param rtol the relative tolerance; not validated here ({@code rnn4j compare} requires finite, not negative)
     * @param atol the absolute tolerance; likewise
     * @return the comparison; differences are reported in it, not thrown
     */
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

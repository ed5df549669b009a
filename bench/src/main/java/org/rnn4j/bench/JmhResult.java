package org.rnn4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One entry of JMH's JSON result file ({@code -rf json}): a benchmark at one set of parameters, with JMH's primary
 * score and its error as JMH gives them.
 *
 * @param benchmark the full method name, {@code org.rnn4j.bench.GemmBench.gemm}
 * @param mode      {@code avgt}, {@code thrpt}, {@code sample}, {@code ss}
 * @param params    the {@code @Param} values, in JMH's order
 * @param score     JMH's primary score
 * @param error     JMH's score error (the half-width of its 99.9% interval); NaN where JMH could not compute one
 * @param unit      the score's unit, {@code ms/op}, {@code us/op}, {@code ops/s}, ...
 * @param run       what JMH recorded about the run (version, JVM, iterations, forks): the entry's other fields
 */
public record JmhResult(String benchmark, String mode, Map<String, String> params, double score, double error,
                        String unit, Map<String, String> run) {

    public JmhResult {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        run = Collections.unmodifiableMap(new LinkedHashMap<>(run));
    }

    /** Every entry of a JMH JSON result file. */
    public static List<JmhResult> parse(Path json) throws IOException {
        return parse(new ObjectMapper().readTree(json.toFile()));
    }

    static List<JmhResult> parse(JsonNode root) {
        if (!root.isArray()) {
            throw new IllegalArgumentException("a JMH JSON result file holds an array, this holds " + root.getNodeType());
        }
        List<JmhResult> out = new ArrayList<>();
        for (JsonNode e : root) {
            String benchmark = text(e, "benchmark");
            Map<String, String> params = new LinkedHashMap<>();
            JsonNode p = e.path("params");
            for (Iterator<Map.Entry<String, JsonNode>> it = p.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                params.put(f.getKey(), f.getValue().asText());
            }
            JsonNode pm = e.path("primaryMetric");
            if (!pm.has("score")) {
                throw new IllegalArgumentException(benchmark + ": no primaryMetric.score");
            }
            Map<String, String> run = new LinkedHashMap<>();
            for (String key : List.of("jmhVersion", "jvm", "jdkVersion", "vmName", "vmVersion", "threads", "forks",
                    "warmupIterations", "warmupTime", "measurementIterations", "measurementTime")) {
                if (e.has(key)) {
                    run.put(key, e.get(key).asText());
                }
            }
            if (e.has("jvmArgs")) {
                List<String> args = new ArrayList<>();
                e.get("jvmArgs").forEach(a -> args.add(a.asText()));
                run.put("jvmArgs", String.join(" ", args));
            }
            out.add(new JmhResult(benchmark, text(e, "mode"), params, number(pm.get("score")),
                    number(pm.get("scoreError")), pm.path("scoreUnit").asText(""), run));
        }
        return out;
    }

    private static String text(JsonNode e, String field) {
        JsonNode n = e.get(field);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("JMH result without '" + field + "': " + e);
        }
        return n.asText();
    }

    /** JMH writes NaN (and infinities) as strings. */
    private static double number(JsonNode n) {
        if (n == null || n.isNull()) {
            return Double.NaN;
        }
        if (n.isNumber()) {
            return n.asDouble();
        }
        try {
            return Double.parseDouble(n.asText());
        } catch (NumberFormatException ex) {
            return Double.NaN;
        }
    }

    /** {@code GemmBench.gemm}: the class's simple name and the method. */
    public String shortName() {
        String[] parts = benchmark.split("\\.");
        return parts.length < 2 ? benchmark : parts[parts.length - 2] + "." + parts[parts.length - 1];
    }

    /** The {@code backend} parameter, or {@code ""} for a benchmark without one. */
    public String backend() {
        return params.getOrDefault("backend", "");
    }

    /** Seconds per operation, from the score and its unit; NaN for a unit it does not know. */
    public double secondsPerOp() {
        return secondsPerOp(score, unit);
    }

    /** Converts a JMH score to seconds per operation: {@code ms/op} and the like directly, {@code ops/s} inverted. */
    public static double secondsPerOp(double score, String unit) {
        String u = unit.trim().toLowerCase(Locale.ROOT);
        if (u.endsWith("/op")) {
            return score * seconds(u.substring(0, u.length() - 3));
        }
        if (u.startsWith("ops/")) {
            return seconds(u.substring(4)) / score;
        }
        return Double.NaN;
    }

    private static double seconds(String unit) {
        switch (unit) {
            case "s":
                return 1;
            case "ms":
                return 1e-3;
            case "us":
            case "\u00b5s":
                return 1e-6;
            case "ns":
                return 1e-9;
            case "min":
                return 60;
            default:
                return Double.NaN;
        }
    }
}

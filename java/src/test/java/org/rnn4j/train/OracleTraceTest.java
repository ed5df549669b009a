package org.rnn4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.io.TraceComparison;
import org.rnn4j.io.Traces;

/**
 * The CPU backend in float64 reproduces the seeds' oracle traces: the golden traces of {@code ../shared/seeds/golden/}
 * and traces at other settings, all listed in {@code traces/cases.json} and made by {@code traces/make_traces.py}.
 */
class OracleTraceTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every traced value within {@code 1e-9 * |want| + 1e-12}; bits and integers exactly. */
    static final double RTOL = 1e-9;
    static final double ATOL = 1e-12;

    /**
     * The seeds' default LSTM run passes through a sensitive stretch (around iterations 40-50) where merely reversing
     * the summation order of the gate dot products moves its trace by up to 2e-9 absolute (measured with
     * {@code tools/oracle-sensitivity.sh}: 1.6e-9). rnn4j sums in sequential order and numpy's BLAS in its own blocked
     * order, so that run alone is compared within {@code 1e-6 * |want| + 1e-8}.
     */
    static final double SENSITIVE_RTOL = 1e-6;
    static final double SENSITIVE_ATOL = 1e-8;

    record Case(String name, String network, JsonNode args) {
        @Override
        public String toString() {
            return name;
        }

        long seed() {
            return args.path("seed").asLong(0);
        }

        double lr() {
            return args.path("lr").asDouble(0.1);
        }
    }

    static Stream<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        for (JsonNode c : JSON.readTree(resource("cases.json"))) {
            out.add(new Case(c.get("name").asText(), c.get("network").asText(), c.get("args")));
        }
        return out.stream();
    }

    private static InputStream resource(String name) {
        InputStream in = OracleTraceTest.class.getResourceAsStream("/org/rnn4j/traces/" + name);
        if (in == null) {
            throw new UncheckedIOException(new IOException("missing test resource traces/" + name));
        }
        return in;
    }

    /** The golden trace, read from the class path as a stream: it works from the test jar too (the device check). */
    static List<JsonNode> expected(Case c) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(resource(c.name() + ".jsonl"),
                StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
        }
        return out;
    }

    /** Runs the case on the CPU in float64, traced as the oracle traces. */
    static List<JsonNode> run(Backend backend, Case c) {
        List<JsonNode> got = new ArrayList<>();
        JsonNode a = c.args();
        if (c.network().equals("rnn")) {
            int every = a.path("report-every").asInt(1000);
            var config = new RnnTrainer.Config(c.seed(), a.path("hidden").asInt(16),
                    a.path("iterations").asInt(10000), c.lr());
            try (var trained = RnnTrainer.train(backend, config, j -> j % every == 0,
                    r -> got.add(Traces.rnn(r))).network()) {
                return got;
            }
        }
        double[] targets = Arrays.stream(a.path("targets").asText("-0.5,0.2,0.1,-0.5").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        var config = new LstmTrainer.Config(c.seed(), a.path("hidden").asInt(100), a.path("input-dim").asInt(50),
                targets, a.path("iterations").asInt(100), c.lr());
        try (var trained = LstmTrainer.train(backend, config, j -> true, r -> got.add(Traces.lstm(r))).network()) {
            return got;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cpuFloat64MatchesTheOracle(Case c) throws Exception {
        boolean sensitive = c.name().equals("lstm-default");
        double rtol = sensitive ? SENSITIVE_RTOL : RTOL;
        double atol = sensitive ? SENSITIVE_ATOL : ATOL;
        try (Backend backend = new CpuBackend64()) {
            TraceComparison.Result r = TraceComparison.compare(run(backend, c), expected(c), rtol, atol);
            System.out.println(c.name() + ": " + r.summary());
            assertTrue(r.passed(), () -> c.name() + ": " + r.summary() + "\n  " + String.join("\n  ", r.failures()));
            assertTrue(r.lines() > 0 && r.values() > 0, "nothing was compared");
        }
    }
}

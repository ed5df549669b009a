package org.rnn4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.cuda.CudaBackendProvider;
import org.rnn4j.cuda.CudaProbe;
import org.rnn4j.cuda.RequiresCuda;
import org.rnn4j.io.TraceComparison;

/**
 * The CUDA backend in float64 reproduces the seeds' golden traces within the bounds the CPU is held to
 * ({@link OracleTraceTest}): {@code 1e-9 * |want| + 1e-12}, the default LSTM run {@code 1e-6 * |want| + 1e-8}; on
 * both GEMM paths. Same cases and fixtures as the CPU test (the core's test jar).
 */
@RequiresCuda
class CudaOracleTraceTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<OracleTraceTest.Case> cases() throws IOException {
        return OracleTraceTest.cases();
    }

    /** Reads a fixture from the class path, whether it sits in a directory or in the core's test jar. */
    private static List<JsonNode> expected(OracleTraceTest.Case c) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        try (InputStream in = OracleTraceTest.class.getResourceAsStream("/org/rnn4j/traces/" + c.name() + ".jsonl");
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
        }
        return out;
    }

    private static void check(OracleTraceTest.Case c, boolean cublas) throws IOException {
        boolean sensitive = c.name().equals("lstm-default");
        double rtol = sensitive ? OracleTraceTest.SENSITIVE_RTOL : OracleTraceTest.RTOL;
        double atol = sensitive ? OracleTraceTest.SENSITIVE_ATOL : OracleTraceTest.ATOL;
        try (Backend backend = CudaBackendProvider.create(Precision.FLOAT64, cublas)) {
            TraceComparison.Result r = TraceComparison.compare(OracleTraceTest.run(backend, c), expected(c), rtol,
                    atol);
            System.out.println("cuda " + (cublas ? "cuBLAS" : "built-in GEMM") + " " + c.name() + ": " + r.summary());
            assertTrue(r.passed(), () -> c.name() + ": " + r.summary() + "\n  " + String.join("\n  ", r.failures()));
            assertTrue(r.lines() > 0 && r.values() > 0, "nothing was compared");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cudaFloat64WithBuiltInGemmMatchesTheOracle(OracleTraceTest.Case c) throws IOException {
        check(c, false);
    }

    /** Tagged {@code cublas}: the device check leaves it out where cuBLAS cannot load. */
    @Tag("cublas")
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cudaFloat64WithCublasMatchesTheOracle(OracleTraceTest.Case c) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(CudaProbe.get().gemm().cublas(),
                () -> "cuBLAS is not available: " + CudaProbe.get().gemm().why());
        check(c, true);
    }
}

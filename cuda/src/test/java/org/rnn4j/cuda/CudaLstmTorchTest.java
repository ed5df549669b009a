package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.nn.Lstm;
import org.rnn4j.torch.TorchCases;

/**
 * {@link Lstm} (1, 2 and 3 layers, given {@code h0, c0}) on the CUDA backend in float64 equals PyTorch's
 * {@code nn.LSTM} within the CPU's bound ({@code LstmTorchTest}): {@code |got - want| <= 1e-9 * |want| + 1e-12} for the
 * outputs, {@code hN}, {@code cN} and the gradients of the input, {@code h0}, {@code c0} and every parameter, on both
 * GEMM paths. Same fixtures as the CPU test, read from the core's test jar.
 */
@RequiresCuda
class CudaLstmTorchTest {

    static Stream<TorchCases.Case> cases() {
        return TorchCases.load(TorchCases.LSTM_STACK).children("cases").stream();
    }

    private static void check(TorchCases.Case c, boolean cublas) {
        Map<String, double[]> got;
        try (Backend backend = CudaBackendProvider.create(Precision.FLOAT64, cublas)) {
            got = TorchCases.runLstmStack(backend, c);
        }
        List<TorchCases.Deviation> devs = new ArrayList<>();
        for (Map.Entry<String, double[]> e : got.entrySet()) {
            devs.add(TorchCases.compare(e.getKey(), e.getValue(), TorchCases.lstmStackWant(c, e.getKey()),
                    TorchCases.RTOL, TorchCases.ATOL));
        }
        String name = TorchCases.lstmStackName(c);
        System.out.println("cuda float64 " + (cublas ? "cuBLAS" : "built-in GEMM") + " Lstm vs PyTorch " + name
                + ":\n  " + devs.stream().map(TorchCases.Deviation::line).collect(Collectors.joining("\n  ")));
        for (TorchCases.Deviation d : devs) {
            assertEquals(0, d.bad(), () -> name + ": " + d.line());
        }
    }

    @ParameterizedTest(name = "{index}")
    @MethodSource("cases")
    void cudaFloat64WithBuiltInGemmMatchesPyTorch(TorchCases.Case c) {
        check(c, false);
    }

    @ParameterizedTest(name = "{index}")
    @MethodSource("cases")
    void cudaFloat64WithCublasMatchesPyTorch(TorchCases.Case c) {
        Assumptions.assumeTrue(CudaProbe.get().gemm().cublas(),
                () -> "cuBLAS is not available: " + CudaProbe.get().gemm().why());
        check(c, true);
    }
}

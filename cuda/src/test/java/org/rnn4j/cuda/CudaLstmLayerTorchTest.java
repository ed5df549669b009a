package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.net.TorchFixtures;

/**
 * {@link LstmLayer} on the CUDA backend in float64 equals PyTorch's {@code nn.LSTM} within the bound the CPU is held
 * to ({@code LstmLayerTorchTest}): {@code |got - want| <= 1e-9 * |want| + 1e-12} for the outputs and every
 * parameter gradient, on both GEMM paths. Same fixtures as the CPU test, read from the core's test jar.
 */
@RequiresCuda
class CudaLstmLayerTorchTest {

    static Stream<TorchFixtures.Case> cases() {
        return TorchFixtures.cases().stream();
    }

    private static void check(TorchFixtures.Case c, boolean cublas) {
        TorchFixtures.Result r;
        try (Backend backend = CudaBackendProvider.create(Precision.FLOAT64, cublas)) {
            r = TorchFixtures.run(backend, c);
        }
        List<TorchFixtures.Deviation> devs = TorchFixtures.compareAll(c, r, TorchFixtures.RTOL, TorchFixtures.ATOL);
        System.out.println("cuda float64 " + (cublas ? "cuBLAS" : "built-in GEMM") + " vs PyTorch " + c.name()
                + ":\n  " + devs.stream().map(TorchFixtures.Deviation::line).collect(Collectors.joining("\n  ")));
        for (TorchFixtures.Deviation d : devs) {
            assertEquals(0, d.bad(), () -> c.name() + ": " + d.line());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cudaFloat64WithBuiltInGemmMatchesPyTorch(TorchFixtures.Case c) {
        check(c, false);
    }

    /** Tagged {@code cublas}: the device check leaves it out where cuBLAS cannot load. */
    @Tag("cublas")
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void cudaFloat64WithCublasMatchesPyTorch(TorchFixtures.Case c) {
        Assumptions.assumeTrue(CudaProbe.get().gemm().cublas(),
                () -> "cuBLAS is not available: " + CudaProbe.get().gemm().why());
        check(c, true);
    }
}

package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.torch.NnTorchRuns;
import org.rnn4j.torch.TorchCases;

/**
 * The library's layers, losses, clipping, optimizers and the whole 10-step training run on the CUDA backend equal
 * PyTorch's as on the CPU ({@code NnTorchTest}): float64 within {@code 1e-9 * |want| + 1e-12} on both GEMM paths,
 * float32 within the CPU test's float32 bound. Same fixtures, read from the core's test jar.
 */
@RequiresCuda
class CudaNnTorchTest {

    /** The CPU test's float32 tolerance ({@code NnTorchTest}). */
    private static final double F32_RTOL = 1e-4;
    private static final double F32_ATOL = 1e-5;

    private static void check(Precision p, boolean cublas, String what,
                              Function<Backend, List<NnTorchRuns.Pair>> run) {
        if (cublas) {
            Assumptions.assumeTrue(CudaProbe.get().gemm().cublas(),
                    () -> "cuBLAS is not available: " + CudaProbe.get().gemm().why());
        }
        List<NnTorchRuns.Pair> pairs;
        try (Backend backend = CudaBackendProvider.create(p, cublas)) {
            pairs = run.apply(backend);
        }
        assertFalse(pairs.isEmpty());
        double rtol = p == Precision.FLOAT64 ? TorchCases.RTOL : F32_RTOL;
        double atol = p == Precision.FLOAT64 ? TorchCases.ATOL : F32_ATOL;
        List<TorchCases.Deviation> devs = pairs.stream().map(x -> x.deviation(rtol, atol)).toList();
        TorchCases.Deviation worst = devs.stream()
                .max((a, b) -> Double.compare(a.worstUse(), b.worstUse())).orElseThrow();
        System.out.println("cuda " + p + (cublas ? " cuBLAS " : " built-in GEMM ") + what + " vs PyTorch: "
                + devs.size() + " arrays, worst: " + worst.line());
        String failed = devs.stream().filter(d -> d.bad() > 0).map(TorchCases.Deviation::line)
                .collect(Collectors.joining("\n  "));
        assertEquals("", failed, what + " in " + p);
    }

    @ParameterizedTest(name = "cublas={0}")
    @ValueSource(booleans = {false, true})
    void linearAndEmbeddingEqualPyTorch(boolean cublas) {
        check(Precision.FLOAT64, cublas, "Linear", NnTorchRuns::linear);
        check(Precision.FLOAT64, cublas, "Embedding", NnTorchRuns::embedding);
    }

    @Test
    void lossesClippingAndOptimizersEqualPyTorch() {
        check(Precision.FLOAT64, false, "cross_entropy, mse_loss", NnTorchRuns::losses);
        check(Precision.FLOAT64, false, "clip_grad_norm_", NnTorchRuns::clipGradNorm);
        check(Precision.FLOAT64, false, "Adam(weight_decay), SGD(momentum)", NnTorchRuns::optimizers);
        check(Precision.FLOAT32, false, "cross_entropy, mse_loss", NnTorchRuns::losses);
        check(Precision.FLOAT32, false, "clip_grad_norm_", NnTorchRuns::clipGradNorm);
        check(Precision.FLOAT32, false, "Adam(weight_decay), SGD(momentum)", NnTorchRuns::optimizers);
    }

    @ParameterizedTest(name = "cublas={0}")
    @ValueSource(booleans = {false, true})
    void trainingRunEqualsPyTorchAfterEveryStep(boolean cublas) {
        check(Precision.FLOAT64, cublas, "training run (10 steps)", NnTorchRuns::trainingRun);
    }

    @ParameterizedTest(name = "cublas={0}")
    @ValueSource(booleans = {false, true})
    void trainingRunInFloat32StaysWithinFloat32Tolerance(boolean cublas) {
        check(Precision.FLOAT32, cublas, "training run (10 steps)", NnTorchRuns::trainingRun);
    }
}

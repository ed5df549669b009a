package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.torch.NnTorchRuns;
import org.rnn4j.torch.TorchCases;

/**
 * The library's layers, losses, clipping, optimizers and a whole training run on the CPU equal PyTorch's
 * ({@code nn_fixtures.json}, {@code train_fixtures.json}): in float64 within {@code 1e-9 * |want| + 1e-12}, in float32
 * within {@link #F32_RTOL}{@code * |want| + }{@link #F32_ATOL}. Every deviation is printed.
 */
class NnTorchTest {

    /** float32 tolerance: a few float32 roundings of the largest values involved, accumulated over the run. */
    static final double F32_RTOL = 1e-4;
    static final double F32_ATOL = 1e-5;

    private static void check(Precision p, String what, Function<Backend, List<NnTorchRuns.Pair>> run) {
        List<NnTorchRuns.Pair> pairs;
        try (Backend backend = new CpuBackendProvider().create(p)) {
            pairs = run.apply(backend);
        }
        assertFalse(pairs.isEmpty());
        double rtol = p == Precision.FLOAT64 ? TorchCases.RTOL : F32_RTOL;
        double atol = p == Precision.FLOAT64 ? TorchCases.ATOL : F32_ATOL;
        List<TorchCases.Deviation> devs = pairs.stream().map(x -> x.deviation(rtol, atol)).toList();
        TorchCases.Deviation worst = devs.stream()
                .max((a, b) -> Double.compare(a.worstUse(), b.worstUse())).orElseThrow();
        System.out.println("cpu " + p + " " + what + " vs PyTorch: " + devs.size() + " arrays, worst: "
                + worst.line());
        String failed = devs.stream().filter(d -> d.bad() > 0).map(TorchCases.Deviation::line)
                .collect(Collectors.joining("\n  "));
        assertEquals("", failed, what + " in " + p);
    }

    @Test
    void linearEqualsPyTorch() {
        check(Precision.FLOAT64, "Linear", NnTorchRuns::linear);
        check(Precision.FLOAT32, "Linear", NnTorchRuns::linear);
    }

    @Test
    void embeddingEqualsPyTorch() {
        check(Precision.FLOAT64, "Embedding", NnTorchRuns::embedding);
        check(Precision.FLOAT32, "Embedding", NnTorchRuns::embedding);
    }

    @Test
    void crossEntropyAndMseEqualPyTorch() {
        check(Precision.FLOAT64, "cross_entropy, mse_loss", NnTorchRuns::losses);
        check(Precision.FLOAT32, "cross_entropy, mse_loss", NnTorchRuns::losses);
    }

    @Test
    void clipGradNormEqualsPyTorch() {
        check(Precision.FLOAT64, "clip_grad_norm_", NnTorchRuns::clipGradNorm);
        check(Precision.FLOAT32, "clip_grad_norm_", NnTorchRuns::clipGradNorm);
    }

    @Test
    void adamWithWeightDecayAndSgdWithMomentumEqualPyTorch() {
        check(Precision.FLOAT64, "Adam(weight_decay), SGD(momentum)", NnTorchRuns::optimizers);
        check(Precision.FLOAT32, "Adam(weight_decay), SGD(momentum)", NnTorchRuns::optimizers);
    }

    @Test
    void trainingRunEqualsPyTorchAfterEveryStep() {
        check(Precision.FLOAT64, "training run (10 steps)", NnTorchRuns::trainingRun);
    }

    @Test
    void trainingRunInFloat32StaysWithinFloat32Tolerance() {
        check(Precision.FLOAT32, "training run (10 steps)", NnTorchRuns::trainingRun);
    }
}

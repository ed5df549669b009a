package org.rnn4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * {@link LstmLayer} equals PyTorch's {@code nn.LSTM}: with PyTorch's parameters, inputs and upstream gradient
 * ({@link TorchFixtures}), the outputs and every parameter gradient agree within {@code 1e-9 * |want| + 1e-12} in
 * float64 on the CPU; the float32 CPU backend within the looser bound below. The deviations are printed.
 */
class LstmLayerTorchTest {

    /**
     * The float32 bound: {@code |got - want| <= F32_RTOL * |want| + F32_ATOL * max|want|}, {@code max} over the compared
     * array. Parameters, inputs and {@code R} are rounded to float on upload (relative error {@code u = 2^-24 ~ 6e-8}),
     * and every value is a chain of float roundings through up to 9 steps of GEMMs over up to {@code 4H = 132} terms
     * and, for the weight gradients, sums over all {@code T * B} rows: a few hundred {@code u}, about 1e-5 relative to
     * the array's scale. Relative error alone is meaningless for the elements that cancel to near zero, hence the
     * magnitude term; a wrong formula, index or gate is off by far more than 1e-5 of the scale. (Measured on these
     * fixtures: at most about 2% of this bound is used; in float64 under 0.1% of 1e-9.)
     */
    static final double F32_RTOL = 1e-5;
    static final double F32_ATOL = 1e-5;

    static Stream<TorchFixtures.Case> cases() {
        return TorchFixtures.cases().stream();
    }

    @Test
    void fixturesCoverTheAgreedSizes() {
        List<String> names = TorchFixtures.cases().stream().map(TorchFixtures.Case::name).toList();
        assertEquals(List.of("X=1 H=1 B=1 T=1", "X=3 H=5 B=2 T=4", "X=7 H=4 B=3 T=6", "X=10 H=16 B=5 T=3",
                "X=2 H=33 B=1 T=9"), names);
        for (TorchFixtures.Case c : TorchFixtures.cases()) {
            int h4 = 4 * c.hidden();
            assertEquals(h4 * c.inputSize(), c.params().get("weight_ih_l0").length);
            assertEquals(h4 * c.hidden(), c.params().get("weight_hh_l0").length);
            assertEquals(h4, c.grads().get("bias_hh_l0").length);
            assertEquals(c.steps() * c.batch() * c.inputSize(), c.inputs().length);
            assertEquals(c.steps() * c.batch() * c.hidden(), c.outputs().length);
            assertEquals(c.steps() * c.batch() * c.hidden(), c.outputGrads().length);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void float64MatchesPyTorch(TorchFixtures.Case c) {
        TorchFixtures.Result r;
        try (Backend backend = new CpuBackend64()) {
            r = TorchFixtures.run(backend, c);
        }
        List<TorchFixtures.Deviation> devs = TorchFixtures.compareAll(c, r, TorchFixtures.RTOL, TorchFixtures.ATOL);
        report("cpu float64", c, devs);
        for (TorchFixtures.Deviation d : devs) {
            assertEquals(0, d.bad(), () -> c.name() + " (torch " + TorchFixtures.torchVersion() + "): " + d.line());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void float32MatchesPyTorchWithinTheFloat32Bound(TorchFixtures.Case c) {
        TorchFixtures.Result r;
        try (Backend backend = new CpuBackend32()) {
            r = TorchFixtures.run(backend, c);
        }
        List<TorchFixtures.Deviation> devs = new java.util.ArrayList<>();
        devs.add(scaled("outputs", r.outputs(), c.outputs()));
        for (String name : TorchFixtures.TORCH_NAMES) {
            devs.add(scaled("d " + name, r.grads().get(name), c.grads().get(name)));
        }
        report("cpu float32", c, devs);
        for (TorchFixtures.Deviation d : devs) {
            assertEquals(0, d.bad(), () -> c.name() + ": " + d.line());
        }
    }

    private static TorchFixtures.Deviation scaled(String what, double[] got, double[] want) {
        double scale = 0;
        for (double w : want) {
            scale = Math.max(scale, Math.abs(w));
        }
        return TorchFixtures.compare(what, got, want, F32_RTOL, F32_ATOL * scale + Double.MIN_NORMAL);
    }

    static void report(String backend, TorchFixtures.Case c, List<TorchFixtures.Deviation> devs) {
        System.out.println(backend + " vs PyTorch " + c.name() + ":\n  "
                + devs.stream().map(TorchFixtures.Deviation::line).collect(Collectors.joining("\n  ")));
        assertTrue(devs.size() == 5);
    }
}

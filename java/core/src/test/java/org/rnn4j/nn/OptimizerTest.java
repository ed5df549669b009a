package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * The optimizers' and clipping's own contracts beside their equality with PyTorch ({@code NnTorchTest}): the step
 * count on the device, a learning-rate change, a reset, plain SGD's arithmetic, the state they allocate, clipping that
 * keeps the norm on the device, and bad arguments named.
 */
class OptimizerTest {

    private static ParameterArena arena(Backend be, double[] params, double[] grads) {
        ParameterArena a = new ParameterArena(be, new ParameterArena.Layout().add("w", 1, params.length));
        a.uploadParams(params);
        a.uploadGrads(grads);
        return a;
    }

    @Test
    void adamCountsStepsOnTheDeviceAndResets() {
        try (AbstractBackend be = new CpuBackend64(); ParameterArena a = arena(be, new double[] {1, -2, 3},
                new double[] {0.5, 0.5, -1})) {
            long before = be.allocatedBytes();
            try (Adam adam = new Adam(a, 0.1)) {
                assertEquals(before + (2L * 3 + 1) * 8, be.allocatedBytes(), "two moments and the step count");
                adam.step();
                adam.step();
                assertEquals(2, adam.stepCount());
                // Adam's first step moves every parameter by lr against the gradient's sign
                adam.reset();
                assertEquals(0, adam.stepCount());
                a.uploadParams(new double[] {1, -2, 3});
                adam.setLearningRate(0.25);
                adam.step();
                assertArrayEquals(new double[] {0.75, -2.25, 3.25}, a.downloadParams(), 1e-7);
                assertEquals(0.25, adam.learningRate());
            }
            assertEquals(before, be.allocatedBytes());
        }
    }

    @Test
    void plainSgdIsStatelessAndSubtracts() {
        try (AbstractBackend be = new CpuBackend64(); ParameterArena a = arena(be, new double[] {1, 2},
                new double[] {4, -8})) {
            long before = be.allocatedBytes();
            try (Sgd sgd = new Sgd(a, 0.5); Sgd momentum = new Sgd(a, 0.5, 0.9, 0)) {
                assertEquals(before + (1 + 2 + 1) * 8, be.allocatedBytes());
                sgd.step();
                assertArrayEquals(new double[] {-1, 6}, a.downloadParams(), 0);
                assertEquals(0, sgd.stepCount());
                momentum.step();
                momentum.step(); // buf = g, then 0.9 g + g
                assertArrayEquals(new double[] {-1 - 0.5 * 4 * 2.9, 6 + 0.5 * 8 * 2.9}, a.downloadParams(), 1e-12);
                assertEquals(2, momentum.stepCount());
            }
        }
    }

    @Test
    void clippingKeepsTheNormOnTheDeviceAndScales() {
        try (Backend be = new CpuBackend64(); ParameterArena a = arena(be, new double[2], new double[] {3, 4});
             GradientClipping clip = new GradientClipping(a)) {
            clip.computeNorm();
            assertEquals(5, clip.lastNorm());
            assertArrayEquals(new double[] {3, 4}, a.downloadGrads(), 0, "computeNorm does not clip");
            clip.clipGradNorm(10);
            assertArrayEquals(new double[] {3, 4}, a.downloadGrads(), 0, "below the bound: unchanged");
            assertEquals(1, be.download(clip.coefficient())[0]);
            clip.clipGradNorm(1);
            assertEquals(5, be.download(clip.norm())[0], "the norm before clipping, as PyTorch returns");
            double c = 1 / (5 + 1e-6);
            assertArrayEquals(new double[] {3 * c, 4 * c}, a.downloadGrads(), 1e-15);
        }
    }

    @Test
    void badArgumentsAreNamed() {
        try (Backend be = new CpuBackend64(); ParameterArena a = arena(be, new double[2], new double[2])) {
            assertMessage("lr", () -> new Adam(a, -1));
            assertMessage("lr", () -> new Adam(a, Double.NaN));
            assertMessage("beta1", () -> new Adam(a, 0.1, 1, 0.9, 1e-8, 0));
            assertMessage("beta2", () -> new Adam(a, 0.1, 0.9, -0.1, 1e-8, 0));
            assertMessage("eps", () -> new Adam(a, 0.1, 0.9, 0.9, -1, 0));
            assertMessage("weightDecay", () -> new Adam(a, 0.1, 0.9, 0.9, 1e-8, Double.POSITIVE_INFINITY));
            assertMessage("arena", () -> new Adam(null, 0.1));
            assertMessage("momentum", () -> new Sgd(a, 0.1, -0.5, 0));
            assertMessage("lr", () -> new Sgd(a, 0.1).setLearningRate(-2));
            try (GradientClipping clip = new GradientClipping(a)) {
                assertMessage("maxNorm", () -> clip.clipGradNorm(-1));
            }
            assertMessage("rows", () -> new CrossEntropyLoss(be, 0, 3));
            assertMessage("classes", () -> new CrossEntropyLoss(be, 2, 0));
            try (CrossEntropyLoss ce = new CrossEntropyLoss(be, 2, 3); MseLoss mse = new MseLoss(be, 2)) {
                assertMessage("targets must hold 2", () -> ce.setTargets(new int[3]));
                assertMessage("outputs must hold 6", () -> ce.forward(be.allocate(5)));
                assertMessage("outputGrads must hold 2", () -> mse.backward(be.allocate(2), be.allocate(3)));
                assertMessage("targets must hold 2", () -> mse.setTargets(new float[1]));
            }
        }
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
    }
}

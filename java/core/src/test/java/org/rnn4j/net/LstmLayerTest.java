package org.rnn4j.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.rng.NumpyRandom;

/** {@link LstmLayer}'s contract beyond its numbers (which {@link LstmLayerTorchTest} checks against PyTorch). */
class LstmLayerTest {

    private static double[] random(NumpyRandom rng, int n, double lo, double hi) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * rng.randomSample();
        }
        return v;
    }

    @Test
    void parametersHavePyTorchsNamesShapesAndOrder() {
        try (Backend be = new CpuBackend64(); LstmLayer net = new LstmLayer(be, 3, 5)) {
            assertEquals(List.of(new ParamTensor("weight_ih", 0, 20, 3), new ParamTensor("weight_hh", 60, 20, 5),
                    new ParamTensor("bias_ih", 160, 1, 20), new ParamTensor("bias_hh", 180, 1, 20)),
                    net.parameterTensors());
            assertEquals(200, net.parameters().length);
            assertEquals(3, net.inputSize());
            assertEquals(5, net.hidden());
            assertSame(be, net.backend());
        }
    }

    @Test
    void initLikePyTorchDrawsUniformInPlusMinusOneOverSqrtHInOrder() {
        try (Backend be = new CpuBackend64(); LstmLayer net = new LstmLayer(be, 2, 4)) {
            net.initLikePyTorch(new NumpyRandom(5));
            double[] p = net.parameters();
            NumpyRandom rng = new NumpyRandom(5);
            double k = 0.5; // 1 / sqrt(4)
            for (int i = 0; i < p.length; i++) {
                double want = -k + 2 * k * rng.randomSample();
                assertEquals(want, p[i], 0.0, "parameter " + i);
                assertTrue(p[i] >= -k && p[i] < k);
            }
        }
    }

    /** Forward then backward on random data; returns {outputs, gradients}. */
    private static double[][] run(LstmLayer net, LstmLayer.Workspace ws, double[] x, double[] r) {
        ws.setInputs(x);
        net.forward(ws);
        ws.setOutputGrads(r);
        net.backward(ws);
        return new double[][] {ws.downloadOutputs(), net.gradients()};
    }

    @Test
    void backwardWritesTheGradientsRatherThanAccumulating() {
        NumpyRandom rng = new NumpyRandom(11);
        int x = 3;
        int h = 4;
        int t = 5;
        int b = 2;
        try (Backend be = new CpuBackend64(); LstmLayer net = new LstmLayer(be, x, h);
             LstmLayer.Workspace ws = net.workspace(t, b)) {
            net.initLikePyTorch(rng);
            double[] in = random(rng, t * b * x, -1, 1);
            double[] r = random(rng, t * b * h, -1, 1);
            double[][] first = run(net, ws, in, r);
            double[][] again = run(net, ws, in, r);
            assertArrayEquals(first[0], again[0]);
            assertArrayEquals(first[1], again[1], "a second backward gives the same gradients, not twice them");
            net.backward(ws); // backward alone, again
            assertArrayEquals(first[1], net.gradients());
            // Other data in between leaves no trace.
            run(net, ws, random(rng, t * b * x, -1, 1), random(rng, t * b * h, -1, 1));
            double[][] after = run(net, ws, in, r);
            assertArrayEquals(first[1], after[1]);
            boolean nonzero = false;
            for (double g : first[1]) {
                nonzero |= g != 0;
            }
            assertTrue(nonzero);
        }
    }

    @Test
    void oneStepHasNoRecurrentWeightGradient() {
        NumpyRandom rng = new NumpyRandom(3);
        try (Backend be = new CpuBackend64(); LstmLayer net = new LstmLayer(be, 2, 3);
             LstmLayer.Workspace ws = net.workspace(1, 4)) {
            net.initLikePyTorch(rng);
            // Gradients left non-zero by a longer run must be overwritten with zeros for weight_hh.
            try (LstmLayer.Workspace longer = net.workspace(3, 4)) {
                run(net, longer, random(rng, 3 * 4 * 2, -1, 1), random(rng, 3 * 4 * 3, -1, 1));
            }
            double[] g = run(net, ws, random(rng, 4 * 2, -1, 1), random(rng, 4 * 3, -1, 1))[1];
            ParamTensor whh = net.parameterTensors().get(1);
            for (int i = whh.offset(); i < whh.offset() + whh.size(); i++) {
                assertEquals(0.0, g[i], "d weight_hh[" + (i - whh.offset()) + "]");
            }
        }
    }

    @Test
    void sgdStepSubtractsTheScaledGradients() {
        NumpyRandom rng = new NumpyRandom(8);
        try (Backend be = new CpuBackend64(); LstmLayer net = new LstmLayer(be, 2, 3);
             LstmLayer.Workspace ws = net.workspace(2, 2)) {
            net.initLikePyTorch(rng);
            double[] before = net.parameters();
            double[] g = run(net, ws, random(rng, 2 * 2 * 2, -1, 1), random(rng, 2 * 2 * 3, -1, 1))[1];
            net.sgdStep(0.25);
            double[] after = net.parameters();
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i] - 0.25 * g[i], after[i], 0.0);
            }
        }
    }

    /** The backend behind a proxy that records every operation called, to check what forward and backward issue. */
    @Test
    void forwardAndBackwardNeitherDownloadNorSynchronize() {
        NumpyRandom rng = new NumpyRandom(21);
        try (CpuBackend64 real = new CpuBackend64()) {
            List<String> calls = new ArrayList<>();
            Backend spy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                        calls.add(method.getName());
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (LstmLayer net = new LstmLayer(spy, 3, 4); LstmLayer.Workspace ws = net.workspace(6, 2)) {
                net.initLikePyTorch(rng);
                ws.setInputs(random(rng, 6 * 2 * 3, -1, 1));
                ws.setOutputGrads(random(rng, 6 * 2 * 4, -1, 1));
                calls.clear();
                net.forward(ws);
                List<String> forward = List.copyOf(calls);
                calls.clear();
                net.backward(ws);
                List<String> backward = List.copyOf(calls);
                for (List<String> pass : List.of(forward, backward)) {
                    assertTrue(!pass.contains("download") && !pass.contains("synchronize")
                            && !pass.contains("upload") && !pass.contains("allocate"), pass.toString());
                }
                // Forward: 1 input GEMM + 5 recurrent GEMMs, 6 cell steps.
                assertEquals(6, forward.stream().filter("gemm"::equals).count(), forward.toString());
                assertEquals(6, forward.stream().filter("standardLstmCellForward"::equals).count());
                // Backward: 5 GEMMs carrying dh back, 2 weight-gradient GEMMs, 6 cell steps, one column sum.
                assertEquals(7, backward.stream().filter("gemm"::equals).count(), backward.toString());
                assertEquals(6, backward.stream().filter("standardLstmCellBackward"::equals).count());
                assertEquals(1, backward.stream().filter("sumRows"::equals).count());
            }
        }
    }

    @Test
    void argumentsAreChecked() {
        try (Backend be = new CpuBackend64()) {
            assertThrows(IllegalArgumentException.class, () -> new LstmLayer(be, 0, 3));
            assertThrows(IllegalArgumentException.class, () -> new LstmLayer(be, 3, 0));
            assertThrows(IllegalArgumentException.class, () -> new LstmLayer(null, 3, 3));
            try (LstmLayer net = new LstmLayer(be, 2, 3); LstmLayer other = new LstmLayer(be, 2, 3);
                 LstmLayer.Workspace ws = net.workspace(2, 2); LstmLayer.Workspace foreign = other.workspace(2, 2)) {
                assertThrows(IllegalArgumentException.class, () -> net.workspace(0, 1));
                assertThrows(IllegalArgumentException.class, () -> net.workspace(1, 0));
                assertThrows(IllegalArgumentException.class, () -> ws.setInputs(new double[7]));
                assertThrows(IllegalArgumentException.class, () -> ws.setOutputGrads(new double[13]));
                assertThrows(IllegalArgumentException.class, () -> net.setParameters(new double[3]));
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> net.forward(foreign));
                assertTrue(e.getMessage().contains("ws"), e.getMessage());
                assertThrows(IllegalArgumentException.class, () -> net.backward(foreign));
                assertEquals(2 * 2 * 2, ws.inputs().length());
                assertEquals(2 * 2 * 3, ws.outputs().length());
                assertEquals(2 * 2 * 3, ws.outputGrads().length());
                assertEquals(2, ws.steps());
                assertEquals(2, ws.batch());
            }
        }
    }
}

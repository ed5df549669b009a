package org.rnn4j.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.rng.NumpyRandom;

/**
 * The batch dimension is real: a batch of problems gives each row exactly what that problem alone gives, and the
 * gradients of a batch are the sum of the rows' gradients.
 */
class BatchLayoutTest {

    @Test
    void rnnBatchRowsEqualSingleProblems() {
        int[] a = {9, 127, 0, 64, 33};
        int[] b = {60, 127, 0, 63, 91};
        try (Backend backend = new CpuBackend64(); BinaryAdditionRnn net = new BinaryAdditionRnn(backend, 7)) {
            net.initLikeSeed(new NumpyRandom(3));
            double[] batchOut;
            double[] batchGrad;
            try (BinaryAdditionRnn.Workspace ws = net.workspace(a.length)) {
                ws.setProblems(a, b);
                net.computeGradients(ws);
                batchOut = ws.outputs();
                batchGrad = net.gradients();
            }
            double[] sumGrad = new double[batchGrad.length];
            try (BinaryAdditionRnn.Workspace one = net.workspace(1)) {
                for (int r = 0; r < a.length; r++) {
                    one.setProblems(new int[] {a[r]}, new int[] {b[r]});
                    net.computeGradients(one);
                    double[] out = one.outputs();
                    for (int t = 0; t < BinaryAdditionRnn.BITS; t++) {
                        assertEquals(out[t], batchOut[t * a.length + r], 0.0, "row " + r + " step " + t);
                    }
                    double[] g = net.gradients();
                    for (int i = 0; i < g.length; i++) {
                        sumGrad[i] += g[i];
                    }
                }
            }
            for (int i = 0; i < sumGrad.length; i++) {
                assertEquals(sumGrad[i], batchGrad[i], 1e-12 * (1 + Math.abs(sumGrad[i])), "gradient " + i);
            }
        }
    }

    @Test
    void lstmBatchRowsEqualSingleSequences() {
        int hidden = 5;
        int input = 3;
        int steps = 4;
        int batch = 3;
        NumpyRandom rng = new NumpyRandom(11);
        double[] x = new double[steps * batch * input];
        double[] y = new double[steps * batch];
        rng.randomSample(x);
        rng.randomSample(y);
        try (Backend backend = new CpuBackend64(); SeedLstm net = new SeedLstm(backend, hidden, input)) {
            double[] params = new double[net.parameters().length];
            rng.randomSample(params);
            for (int i = 0; i < params.length; i++) {
                params[i] -= 0.5;
            }
            net.setParameters(params);
            double[] batchPred;
            double[] batchLoss;
            double[] batchGrad;
            try (SeedLstm.Workspace ws = net.workspace(steps, batch)) {
                ws.setInputs(x);
                ws.setTargets(y);
                net.computeGradients(ws);
                batchPred = ws.predictions();
                batchLoss = ws.losses();
                batchGrad = net.gradients();
            }
            double[] sumGrad = new double[batchGrad.length];
            try (SeedLstm.Workspace one = net.workspace(steps, 1)) {
                for (int r = 0; r < batch; r++) {
                    double[] xr = new double[steps * input];
                    double[] yr = new double[steps];
                    for (int t = 0; t < steps; t++) {
                        System.arraycopy(x, (t * batch + r) * input, xr, t * input, input);
                        yr[t] = y[t * batch + r];
                    }
                    one.setInputs(xr);
                    one.setTargets(yr);
                    net.computeGradients(one);
                    double[] pred = one.predictions();
                    for (int t = 0; t < steps; t++) {
                        assertEquals(pred[t], batchPred[t * batch + r], 0.0, "row " + r + " step " + t);
                    }
                    assertEquals(one.losses()[0], batchLoss[r], 0.0, "loss of row " + r);
                    double[] g = net.gradients();
                    for (int i = 0; i < g.length; i++) {
                        sumGrad[i] += g[i];
                    }
                }
            }
            for (int i = 0; i < sumGrad.length; i++) {
                assertEquals(sumGrad[i], batchGrad[i], 1e-12 * (1 + Math.abs(sumGrad[i])), "gradient " + i);
            }
        }
    }

    @Test
    void seedLstmInitKeepsTheSeedsQuirk() {
        int hidden = 6;
        int input = 4;
        try (Backend backend = new CpuBackend64(); SeedLstm net = new SeedLstm(backend, hidden, input)) {
            NumpyRandom rng = new NumpyRandom(5);
            net.initLikeSeed(rng, 5);
            double[] p = net.parameters();
            int block = hidden * (hidden + input);
            double[] expected = new double[block];
            NumpyRandom fresh = new NumpyRandom(5);
            fresh.randomSample(expected);
            for (int gate = 0; gate < GateLayout.GATES; gate++) {
                for (int i = 0; i < block; i++) {
                    // rand_arr reseeds before every array, so every gate's matrix is the same first draws
                    assertEquals(expected[i] * 0.2 - 0.1, p[gate * block + i], 0.0);
                }
            }
            int bias = GateLayout.GATES * block;
            for (int gate = 0; gate < GateLayout.GATES; gate++) {
                for (int j = 0; j < hidden; j++) {
                    assertEquals(expected[j] * 0.2 - 0.1, p[bias + gate * hidden + j], 0.0);
                }
            }
            // The generator is left after the last bias: hidden draws past a reseed
            NumpyRandom after = new NumpyRandom(5);
            after.randomSample(new double[hidden]);
            assertArrayEquals(new double[] {after.randomSample()}, new double[] {rng.randomSample()});
        }
    }
}

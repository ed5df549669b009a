package org.rnn4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.rng.NumpyRandom;

/**
 * {@link LstmLayer} with the seed cell (the fast algorithm: input projections as one GEMM, weight gradients as GEMMs
 * over all rows) computes what {@link SeedLstm} (the step-by-step transcription of the seed) computes: the same
 * outputs and the same gradients of the seed's loss, up to the rounding of a different summation order.
 */
class SeedCellLayerTest {

    @Test
    void layerWithTheSeedCellEqualsTheSeedTranscription() {
        int hidden = 7;
        int input = 5;
        int steps = 4;
        int batch = 3;
        try (Backend cpu = new CpuBackend64(); SeedLstm seed = new SeedLstm(cpu, hidden, input);
             SeedLstm.Workspace sws = seed.workspace(steps, batch);
             LstmLayer layer = new LstmLayer(cpu, LstmLayer.Cell.SEED, input, hidden);
             LstmLayer.Workspace lws = layer.workspace(steps, batch)) {
            NumpyRandom rng = new NumpyRandom(11);
            seed.initLikeSeed(rng, 11);
            layer.initLikeSeed(new NumpyRandom(11), 11);
            double[] params = seed.parameters();
            assertEquals(params.length, layer.parameters().length);
            for (int i = 0; i < params.length; i++) {
                params[i] += 0.3 * (rng.randomSample() - 0.5); // break the seed's equal gates
            }
            seed.setParameters(params);
            layer.setParameters(params);
            double[] x = new double[steps * batch * input];
            rng.randomSample(x);
            double[] y = new double[steps * batch];
            for (int i = 0; i < y.length; i++) {
                y[i] = rng.randomSample() - 0.5;
            }
            sws.setInputs(x);
            sws.setTargets(y);
            seed.computeGradients(sws);
            // The same task on the layer: the seed's loss on h[0] of every step enters as dL/dh.
            lws.setInputs(x);
            layer.forward(lws);
            double[] h = lws.downloadOutputs();
            double[] dh = new double[h.length];
            for (int t = 0; t < steps; t++) {
                for (int r = 0; r < batch; r++) {
                    int at = (t * batch + r) * hidden;
                    dh[at] = 2 * (h[at] - y[t * batch + r]);
                }
            }
            lws.setOutputGrads(dh);
            layer.backward(lws);
            double[] want = seed.gradients();
            double[] got = layer.gradients();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-13 * Math.max(1, Math.abs(want[i])), "gradient " + i);
            }
            double[] predictions = sws.predictions();
            for (int t = 0; t < steps; t++) {
                for (int r = 0; r < batch; r++) {
                    assertEquals(predictions[t * batch + r], h[(t * batch + r) * hidden], 1e-14);
                }
            }
        }
    }

    @Test
    void eachCellHasItsOwnInitialisation() {
        try (Backend cpu = new CpuBackend64(); LstmLayer standard = new LstmLayer(cpu, 3, 2)) {
            assertThrows(IllegalStateException.class, () -> standard.initLikeSeed(new NumpyRandom(0), 0));
        }
    }
}

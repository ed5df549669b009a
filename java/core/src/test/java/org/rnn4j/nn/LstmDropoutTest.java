package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * {@link Lstm}'s dropout between layers follows {@code nn.LSTM}'s semantics: the outputs of every layer but the last
 * are multiplied by the backend's Philox dropout mask before the next layer reads them, only in training; the mask
 * repeats with the seed; the backward goes through it (finite differences); its buffers are what the formula says.
 */
class LstmDropoutTest {

    private static final int X = 3;
    private static final int H = 4;
    private static final int T = 5;
    private static final int B = 2;
    private static final double P = 0.4;

    private static double[] random(Random rng, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = 2 * rng.nextDouble() - 1;
        }
        return out;
    }

    private static double[] forward(Lstm lstm, Lstm.Workspace ws, double[] x) {
        ws.setInputs(x);
        lstm.forward(ws);
        return ws.downloadOutputs();
    }

    @Test
    void aTwoLayerLstmWithDropoutIsLayerOneThenTheMaskThenLayerTwo() {
        Random rng = new Random(3);
        double[] x = random(rng, T * B * X);
        try (Backend be = new CpuBackend64(); Lstm two = Lstm.create(be, X, H, 2, P, 11);
             Lstm first = Lstm.create(be, X, H, 1, 0); Lstm second = Lstm.create(be, H, H, 1, 0);
             Lstm.Workspace ws = two.workspace(T, B); Lstm.Workspace ws1 = first.workspace(T, B);
             Lstm.Workspace ws2 = second.workspace(T, B); Buffer mask = be.allocate(T * B * H)) {
            for (String base : new String[] {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
                first.arena().uploadParam(base + "_l0", two.arena().downloadParam(base + "_l0"));
                second.arena().uploadParam(base + "_l0", two.arena().downloadParam(base + "_l1"));
            }
            two.setDropoutSeed(99);
            double[] got = forward(two, ws, x);
            // by hand: layer 0, the mask of (seed 99, offset 0) on its outputs, layer 1 on the result
            forward(first, ws1, x);
            be.dropoutForward(ws1.outputs(), P, 99, 0, mask, ws2.inputs());
            second.forward(ws2);
            assertArrayEquals(ws2.downloadOutputs(), got, 0);
            double[] m = be.download(mask);
            assertTrue(Arrays.stream(m).anyMatch(v -> v == 0) && Arrays.stream(m).anyMatch(v -> v > 1),
                    "the mask drops some values and scales the rest");
            // the next forward draws fresh masks (the counter advanced by ceil(T*B*H / 4))
            double[] next = forward(two, ws, x);
            assertFalse(Arrays.equals(got, next));
            be.dropoutForward(ws1.outputs(), P, 99, (T * B * H + 3) / 4, mask, ws2.inputs());
            second.forward(ws2);
            assertArrayEquals(ws2.downloadOutputs(), next, 0);
            // restarting the seed repeats the masks
            two.setDropoutSeed(99);
            assertArrayEquals(got, forward(two, ws, x), 0);
        }
    }

    @Test
    void noDropoutInEvaluationOrOnTheInferencePath() {
        Random rng = new Random(4);
        double[] x = random(rng, T * B * X);
        try (Backend be = new CpuBackend64(); Lstm drop = Lstm.create(be, X, H, 3, P, 5);
             Lstm plain = Lstm.create(be, X, H, 3, 0, 5); Lstm.Workspace wsd = drop.workspace(T, B);
             Lstm.Workspace wsp = plain.workspace(T, B); Lstm.State state = drop.state(B);
             Buffer in = be.allocate(x.length); Buffer out = be.allocate(T * B * H)) {
            assertArrayEquals(plain.parameters(), drop.parameters(), 0);
            double[] reference = forward(plain, wsp, x);
            assertTrue(drop.isTraining());
            assertFalse(Arrays.equals(reference, forward(drop, wsd, x)), "training applies dropout");
            drop.setTraining(false);
            assertArrayEquals(reference, forward(drop, wsd, x), 0);
            be.upload(x, in);
            drop.forward(state, in, out);
            assertArrayEquals(reference, be.download(out), 1e-15);
        }
    }

    /** {@code L = sum(out * R) + sum(hN * RH)}: gradients by the backward against central differences. */
    @Test
    void theBackwardGoesThroughTheMaskFiniteDifferences() {
        Random rng = new Random(5);
        double[] x = random(rng, T * B * X);
        double[] r = random(rng, T * B * H);
        double[] rh = random(rng, 3 * B * H);
        try (Backend be = new CpuBackend64(); Lstm lstm = Lstm.create(be, X, H, 3, P, 8);
             Lstm.Workspace ws = lstm.workspace(T, B)) {
            lstm.setDropoutSeed(21);
            ws.setInputs(x);
            lstm.forward(ws);
            ws.setOutputGrads(r);
            ws.setFinalStateGrads(rh, new double[rh.length]);
            lstm.backward(ws);
            double[] grads = lstm.gradients();
            double[] inputGrads = ws.downloadInputGrads();
            double[] params = lstm.parameters();
            double eps = 1e-6;
            double worst = 0;
            for (int i = 0; i < params.length; i += 3) {
                double[] p = params.clone();
                p[i] += eps;
                lstm.setParameters(p);
                double up = loss(lstm, ws, x, r, rh);
                p[i] -= 2 * eps;
                lstm.setParameters(p);
                double down = loss(lstm, ws, x, r, rh);
                worst = Math.max(worst, relErr(grads[i], (up - down) / (2 * eps)));
            }
            lstm.setParameters(params);
            for (int i = 0; i < x.length; i++) {
                double[] xp = x.clone();
                xp[i] += eps;
                double up = loss(lstm, ws, xp, r, rh);
                xp[i] -= 2 * eps;
                double down = loss(lstm, ws, xp, r, rh);
                worst = Math.max(worst, relErr(inputGrads[i], (up - down) / (2 * eps)));
            }
            assertTrue(worst < 1e-6, "worst relative error " + worst);
        }
    }

    private static double loss(Lstm lstm, Lstm.Workspace ws, double[] x, double[] r, double[] rh) {
        lstm.setDropoutSeed(21); // the same mask as the backward's
        ws.setInputs(x);
        lstm.forward(ws);
        double[] out = ws.downloadOutputs();
        double[] hn = ws.downloadFinalH();
        double l = 0;
        for (int i = 0; i < out.length; i++) {
            l += out[i] * r[i];
        }
        for (int i = 0; i < hn.length; i++) {
            l += hn[i] * rh[i];
        }
        return l;
    }

    private static double relErr(double analytic, double numeric) {
        return Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(analytic) + Math.abs(numeric));
    }

    @Test
    void dropoutBuffersAreWhatTheFormulaSays() {
        try (AbstractBackend be = new CpuBackend64(); Lstm lstm = Lstm.create(be, X, H, 3, P, 1);
             Lstm one = Lstm.create(be, X, H, 1, P, 1)) {
            long before = be.allocatedBytes();
            try (Lstm.Workspace ws = lstm.workspace(T, B)) {
                assertEquals(Lstm.workspaceElements(T, B, X, H, 3, P) * 8, be.allocatedBytes() - before);
                assertEquals(Lstm.workspaceElements(T, B, X, H, 3) + 2L * 2 * T * B * H,
                        Lstm.workspaceElements(T, B, X, H, 3, P));
            }
            try (Lstm.Workspace ws = one.workspace(T, B)) {
                // one layer: nothing between layers, so no mask
                assertEquals(Lstm.workspaceElements(T, B, X, H, 1) * 8, be.allocatedBytes() - before);
            }
        }
    }
}

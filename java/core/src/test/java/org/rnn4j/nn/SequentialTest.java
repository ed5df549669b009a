package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.net.ParamTensor;

/**
 * {@link Sequential}'s contracts beside its equality with PyTorch ({@code NnTorchTest}): PyTorch's names, the chaining of
 * layers (two LSTMs in a row equal one two-layer LSTM, forward and backward), finite differences through a model that
 * reads features, the inference path and single steps equal the training forward, allocations are what the builder's
 * formulas say, initialisation is PyTorch's distributions, and bad arguments are named.
 */
class SequentialTest {

    private static double[] random(Random rng, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = 2 * rng.nextDouble() - 1;
        }
        return out;
    }

    private static int[] tokens(Random rng, int n, int vocab) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = rng.nextInt(vocab);
        }
        return out;
    }

    @Test
    void namesAreTorchsStateDictNames() {
        try (Backend be = new CpuBackend64();
             Sequential m = Sequential.builder().embedding(7, 3).lstm(4, 2).linear(7).build(be, 1);
             Sequential n = Sequential.builder().inputFeatures(2).linear(5).lstm("rnn", 3, 1, 0).lstm(3, 1)
                     .linear(4).linear(2).build(be, 1)) {
            assertEquals(List.of("embedding", "lstm", "head"), m.layerNames());
            assertEquals(List.of("embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                    "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                    "head.weight", "head.bias"), m.parameterTensors().stream().map(ParamTensor::name).toList());
            assertEquals(List.of("linear", "rnn", "lstm", "linear_3", "head"), n.layerNames());
            assertEquals(Sequential.builder().embedding(7, 3).lstm(4, 2).linear(7).parameterCount(),
                    m.parameterCount());
            assertEquals(7 * 3 + Lstm.parameterCount(3, 4, 2) + Linear.parameterCount(4, 7), m.parameterCount());
            assertTrue(m.readsTokens());
            assertEquals(2, n.inputFeatures());
            assertEquals(2, n.outputFeatures());
            assertEquals(4, m.layer("lstm", Lstm.class).hidden());
        }
    }

    /** Two one-layer LSTMs in a row are a two-layer LSTM: same outputs, same gradients (the copies between them). */
    @Test
    void twoLstmsInARowEqualOneTwoLayerLstm() {
        Random rng = new Random(2);
        int t = 4;
        int b = 3;
        int[] x = tokens(rng, t * b, 6);
        int[] y = tokens(rng, t * b, 6);
        try (Backend be = new CpuBackend64();
             Sequential one = Sequential.builder().embedding(6, 3).lstm(5, 2).linear(6).build(be, 4);
             Sequential two = Sequential.builder().embedding(6, 3).lstm("a", 5, 1, 0).lstm("b", 5, 1, 0).linear(6)
                     .build(be, 4);
             Sequential.Workspace w1 = one.workspace(t, b); Sequential.Workspace w2 = two.workspace(t, b);
             CrossEntropyLoss loss = new CrossEntropyLoss(be, t * b, 6)) {
            Map<String, double[]> sd = one.stateDict();
            Map<String, double[]> mapped = new LinkedHashMap<>();
            sd.forEach((name, v) -> mapped.put(name.replaceAll("^lstm\\.(.*)_l0$", "a.$1_l0")
                    .replaceAll("^lstm\\.(.*)_l1$", "b.$1_l0"), v));
            two.loadStateDict(mapped);
            loss.setTargets(y);
            double[][] results = new double[2][];
            double[] losses = new double[2];
            int k = 0;
            for (Object[] pair : new Object[][] {{one, w1}, {two, w2}}) {
                Sequential m = (Sequential) pair[0];
                Sequential.Workspace w = (Sequential.Workspace) pair[1];
                w.setTokens(x);
                m.forward(w);
                loss.forward(w.outputs());
                loss.backward(w.outputs(), w.outputGrads());
                m.backward(w);
                losses[k] = loss.value();
                results[k++] = m.arena().downloadGrads();
            }
            assertEquals(losses[0], losses[1], 1e-15);
            // the same gradients, in the same layout (the tensors are in the same order)
            assertArrayEquals(results[0], results[1], 1e-15);
            assertTrue(Arrays.stream(results[0]).filter(v -> v != 0).count() > results[0].length / 2);
        }
    }

    /** A model that reads features: {@code Linear -> LSTM -> Linear} with MSE, gradients by finite differences. */
    @Test
    void featureModelGradientsMatchFiniteDifferences() {
        Random rng = new Random(3);
        int t = 3;
        int b = 2;
        double[] x = random(rng, t * b * 2);
        double[] y = random(rng, t * b * 3);
        try (Backend be = new CpuBackend64();
             Sequential m = Sequential.builder().inputFeatures(2).linear(4).lstm(5, 2).linear(3).build(be, 9);
             Sequential.Workspace ws = m.workspace(t, b); MseLoss loss = new MseLoss(be, t * b * 3)) {
            ws.setInputs(x);
            loss.setTargets(y);
            m.forward(ws);
            loss.forward(ws.outputs());
            loss.backward(ws.outputs(), ws.outputGrads());
            m.backward(ws);
            double[] grads = m.arena().downloadGrads();
            double[] params = m.arena().downloadParams();
            double eps = 1e-6;
            double worst = 0;
            for (int i = 0; i < params.length; i++) {
                double[] p = params.clone();
                p[i] += eps;
                double up = lossAt(m, ws, loss, p);
                p[i] -= 2 * eps;
                double down = lossAt(m, ws, loss, p);
                double num = (up - down) / (2 * eps);
                worst = Math.max(worst, Math.abs(grads[i] - num) / Math.max(1e-4, Math.abs(grads[i]) + Math.abs(num)));
            }
            assertTrue(worst < 1e-6, "worst relative error " + worst);
        }
    }

    private static double lossAt(Sequential m, Sequential.Workspace ws, Loss loss, double[] params) {
        m.arena().uploadParams(params);
        m.forward(ws);
        loss.forward(ws.outputs());
        return loss.value();
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void inferenceAndSingleStepsEqualTheTrainingForward(Precision p) {
        Random rng = new Random(4);
        int t = 5;
        int b = 2;
        int[] x = tokens(rng, t * b, 9);
        try (Backend be = new CpuBackendProvider().create(p);
             Sequential m = Sequential.builder().embedding(9, 4).lstm(6, 2, 0.3).linear(9).build(be, 5);
             Sequential.Workspace ws = m.workspace(t, b); Sequential.State state = m.state(b)) {
            m.setTraining(false);
            ws.setTokens(x);
            m.forward(ws);
            double[] train = ws.downloadOutputs();
            double[] seq = state.forward(x);
            assertArrayEquals(train, seq, p == Precision.FLOAT64 ? 1e-14 : 1e-5);
            state.reset();
            for (int s = 0; s < t; s++) {
                state.step(Arrays.copyOfRange(x, s * b, (s + 1) * b));
                assertArrayEquals(Arrays.copyOfRange(train, s * b * 9, (s + 1) * b * 9), state.downloadOutput(),
                        p == Precision.FLOAT64 ? 1e-14 : 1e-5);
            }
            // the state carries on: the next step differs from a step from zero
            double[] carried = state.forward(new int[] {1, 2});
            state.reset();
            assertNotEquals(Arrays.toString(carried), Arrays.toString(state.forward(new int[] {1, 2})));
            m.setTraining(true);
            m.forward(ws);
            assertNotEquals(Arrays.toString(train), Arrays.toString(ws.downloadOutputs()), "dropout in training");
        }
    }

    @Test
    void carryingTheStateOverTwoChunksEqualsOneLongSequence() {
        Random rng = new Random(5);
        int b = 2;
        int[] x = tokens(rng, 6 * b, 5);
        try (Backend be = new CpuBackend64();
             Sequential m = Sequential.builder().embedding(5, 3).lstm(4, 2).linear(5).build(be, 6);
             Sequential.Workspace whole = m.workspace(6, b); Sequential.Workspace half = m.workspace(3, b)) {
            whole.setTokens(x);
            m.forward(whole);
            double[] want = whole.downloadOutputs();
            half.setTokens(Arrays.copyOfRange(x, 0, 3 * b));
            m.forward(half);
            double[] first = half.downloadOutputs();
            half.carryState();
            half.setTokens(Arrays.copyOfRange(x, 3 * b, 6 * b));
            m.forward(half);
            double[] second = half.downloadOutputs();
            double[] got = new double[want.length];
            System.arraycopy(first, 0, got, 0, first.length);
            System.arraycopy(second, 0, got, first.length, second.length);
            assertArrayEquals(want, got, 1e-15);
            half.resetState();
            m.forward(half);
            assertNotEquals(Arrays.toString(second), Arrays.toString(half.downloadOutputs()));
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void allocationsAreWhatTheBuilderSaysAndInferenceAllocatesNothingMore(Precision p) {
        List<Sequential.Builder> models = List.of(
                Sequential.builder().embedding(11, 5).lstm(7, 2).linear(11),
                Sequential.builder().embedding(4, 2).lstm(3, 3, 0.5).linear(6).linear(4),
                Sequential.builder().inputFeatures(3).lstm(4, 1).lstm(5, 2, 0.2).linear(2),
                Sequential.builder().inputFeatures(3).linear(4).lstm(2, 1));
        for (Sequential.Builder spec : models) {
            try (AbstractBackend be = (AbstractBackend) new CpuBackendProvider().create(p);
                 Sequential m = spec.build(be, 1)) {
                long params = 2L * spec.parameterCount() * p.bytes();
                assertEquals(params, be.allocatedBytes());
                try (Sequential.Workspace ws = m.workspace(4, 3)) {
                    assertEquals(params + spec.workspaceElements(4, 3) * p.bytes(), be.allocatedBytes());
                }
                try (Sequential.State st = m.state(3)) {
                    long before = be.allocatedBytes();
                    assertEquals(params + spec.stateElements(3) * p.bytes(), before);
                    try (Buffer in = be.allocate(4 * 3 * m.inputFeatures());
                         Buffer out = be.allocate(4 * 3 * m.outputFeatures())) {
                        long withIo = be.allocatedBytes();
                        st.step();
                        st.forward(in, out);
                        assertEquals(withIo, be.allocatedBytes(), "inference allocates nothing");
                    }
                }
                assertEquals(params, be.allocatedBytes(), "workspaces and states release what they took");
            }
        }
    }

    @Test
    void initialisationHasPyTorchsDistributionsAndDependsOnTheSeed() {
        try (Backend be = new CpuBackend64();
             Sequential m = Sequential.builder().embedding(50, 40).lstm(25, 1).linear(36).build(be, 3);
             Sequential same = Sequential.builder().embedding(50, 40).lstm(25, 1).linear(36).build(be, 3);
             Sequential other = Sequential.builder().embedding(50, 40).lstm(25, 1).linear(36).build(be, 4)) {
            assertArrayEquals(m.arena().downloadParams(), same.arena().downloadParams(), 0);
            assertNotEquals(Arrays.toString(m.arena().downloadParams()),
                    Arrays.toString(other.arena().downloadParams()));
            Map<String, double[]> sd = m.stateDict();
            double[] emb = sd.get("embedding.weight"); // N(0, 1), 2000 values
            double mean = Arrays.stream(emb).average().orElseThrow();
            double var = Arrays.stream(emb).map(v -> (v - mean) * (v - mean)).average().orElseThrow();
            assertEquals(0, mean, 0.1);
            assertEquals(1, var, 0.1);
            assertTrue(Arrays.stream(emb).anyMatch(v -> Math.abs(v) > 2.5), "a normal's tails");
            for (String name : List.of("head.weight", "head.bias")) { // U(-1/sqrt(25), 1/sqrt(25))
                double[] w = sd.get(name);
                assertTrue(Arrays.stream(w).allMatch(v -> v >= -0.2 && v < 0.2), name);
                assertTrue(Arrays.stream(w).anyMatch(v -> Math.abs(v) > 0.15), name + " fills the range");
            }
            double[] lw = sd.get("lstm.weight_ih_l0"); // U(-1/sqrt(H), ...), H = 25
            assertTrue(Arrays.stream(lw).allMatch(v -> v >= -0.2 && v < 0.2));
        }
    }

    @Test
    void badArgumentsAreNamed() {
        assertMessage("first layer must be an embedding", () -> Sequential.builder().lstm(3, 1));
        assertMessage("only be the first layer", () -> Sequential.builder().embedding(3, 2).embedding(3, 2));
        assertMessage("only be the first layer", () -> Sequential.builder().inputFeatures(2).embedding(3, 2));
        assertMessage("no layers", () -> Sequential.builder().parameterCount());
        assertIllegalArgument("vocab", () -> Sequential.builder().embedding(0, 2));
        assertIllegalArgument("hidden", () -> Sequential.builder().embedding(3, 2).lstm(0, 1));
        assertIllegalArgument("numLayers", () -> Sequential.builder().embedding(3, 2).lstm(2, 0));
        assertIllegalArgument("dropout", () -> Sequential.builder().embedding(3, 2).lstm(2, 2, 1.0));
        assertIllegalArgument("outFeatures", () -> Sequential.builder().embedding(3, 2).linear(0));
        assertIllegalArgument("name", () -> Sequential.builder().embedding("a.b", 3, 2));
        assertIllegalArgument("already", () -> Sequential.builder().embedding("x", 3, 2).linear("x", 2));
        try (Backend be = new CpuBackend64();
             Sequential m = Sequential.builder().embedding(5, 2).lstm(3, 1).linear(5).build(be, 1);
             Sequential.Workspace ws = m.workspace(2, 2); Sequential.State st = m.state(2)) {
            assertIllegalArgument("tokens[1] = 5", () -> ws.setTokens(new int[] {0, 5, 1, 1}));
            assertIllegalArgument("negative", () -> ws.setTokens(new int[] {0, 1, -1, 1}));
            assertIllegalArgument("tokens must hold 4", () -> ws.setTokens(new int[3]));
            assertMessage("reads tokens", () -> ws.setInputs(new double[8]));
            assertIllegalArgument("tokens must hold 2", () -> st.step(new int[3]));
            assertIllegalArgument("T * 2", () -> st.forward(new int[3]));
            assertIllegalArgument("no layer named", () -> m.layer("rnn", Lstm.class));
            assertIllegalArgument("not a Linear", () -> m.layer("lstm", Linear.class));
            assertIllegalArgument("steps", () -> m.workspace(0, 1));
            assertIllegalArgument("batch", () -> m.state(0));
            Map<String, double[]> sd = m.stateDict();
            sd.remove("head.bias");
            assertIllegalArgument("head.bias", () -> m.loadStateDict(sd));
            sd.put("head.bias", new double[4]);
            assertIllegalArgument("head.bias must hold 5", () -> m.loadStateDict(sd));
            sd.put("head.bias", new double[5]);
            sd.put("extra", new double[1]);
            assertIllegalArgument("extra", () -> m.loadStateDict(sd));
            try (Sequential other = Sequential.builder().embedding(5, 2).lstm(3, 1).linear(5).build(be, 1)) {
                assertIllegalArgument("another model", () -> other.forward(ws));
            }
        }
    }

    private static void assertIllegalArgument(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
    }

    private static void assertMessage(String part, Runnable r) {
        RuntimeException e = assertThrows(RuntimeException.class, r::run);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
    }
}

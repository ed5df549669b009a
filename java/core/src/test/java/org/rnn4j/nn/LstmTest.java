package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.check.GradientCheck;
import org.rnn4j.net.ParamTensor;

/**
 * {@link Lstm}'s own contracts, beside its equality with PyTorch ({@link LstmTorchTest}): the inference path and the
 * single step compute what the training forward computes, a zero initial state is the default, carrying the final
 * state over two chunks equals one long sequence, float32 agrees with float64, finite differences confirm every
 * gradient, layers share one arena, the allocations are what the formulas say, and bad arguments are named.
 */
class LstmTest {

    private static final int X = 3;
    private static final int H = 5;
    private static final int L = 3;
    private static final int T = 6;
    private static final int B = 2;

    private static double[] random(Random rng, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = 2 * rng.nextDouble() - 1;
        }
        return out;
    }

    private static double maxDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /** The training forward's outputs, hN and cN from the given state (null: zero state). */
    private static double[][] trainingForward(Lstm lstm, double[] x, double[] h0, double[] c0) {
        try (Lstm.Workspace ws = lstm.workspace(x.length / (B * lstm.inputSize()), B)) {
            ws.setInputs(x);
            if (h0 != null) {
                ws.setInitialState(h0, c0);
            }
            lstm.forward(ws);
            return new double[][] {ws.downloadOutputs(), ws.downloadFinalH(), ws.downloadFinalC()};
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void inferenceForwardAndSingleStepsEqualTheTrainingForward(Precision p) {
        Random rng = new Random(1);
        double[] x = random(rng, T * B * X);
        double[] h0 = random(rng, L * B * H);
        double[] c0 = random(rng, L * B * H);
        try (Backend backend = new CpuBackendProvider().create(p); Lstm lstm = Lstm.create(backend, X, H, L, 7)) {
            double[][] train = trainingForward(lstm, x, h0, c0);
            // the inference forward over the whole sequence
            double[] outputs;
            try (Lstm.State state = lstm.state(B); Buffer in = backend.allocate(x.length);
                 Buffer out = backend.allocate(T * B * H)) {
                state.set(h0, c0);
                backend.upload(x, in);
                lstm.forward(state, in, out);
                outputs = backend.download(out);
                // the same arithmetic in another order of GEMM rows: equal to the last bits
                double tol = p == Precision.FLOAT64 ? 1e-14 : 1e-6;
                assertTrue(maxDiff(train[0], outputs) <= tol, "outputs " + maxDiff(train[0], outputs));
                assertTrue(maxDiff(train[1], state.downloadH()) <= tol, "hN");
                assertTrue(maxDiff(train[2], state.downloadC()) <= tol, "cN");
            }
            // T single steps, reading back the output after each
            try (Lstm.State state = lstm.state(B); Buffer xt = backend.allocate(B * X)) {
                state.set(h0, c0);
                double[] stepped = new double[T * B * H];
                for (int t = 0; t < T; t++) {
                    backend.upload(x, t * B * X, xt);
                    lstm.step(state, xt);
                    backend.download(state.output(), stepped, t * B * H);
                }
                assertArrayEquals(outputs, stepped, 0.0, "step by step = the inference forward");
                double tol = p == Precision.FLOAT64 ? 1e-14 : 1e-6;
                assertTrue(maxDiff(train[0], stepped) <= tol);
                assertTrue(maxDiff(train[2], state.downloadC()) <= tol);
            }
        }
    }

    @Test
    void zeroInitialStateIsTheDefaultAndResetsTheState() {
        Random rng = new Random(2);
        double[] x = random(rng, T * B * X);
        double[] zero = new double[L * B * H];
        try (Backend backend = new CpuBackend64(); Lstm lstm = Lstm.create(backend, X, H, L, 3)) {
            double[][] byDefault = trainingForward(lstm, x, null, null);
            double[][] given = trainingForward(lstm, x, zero, zero);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(given[i], byDefault[i], 0.0);
            }
            try (Lstm.State state = lstm.state(B); Buffer in = backend.allocate(x.length);
                 Buffer out = backend.allocate(T * B * H)) {
                backend.upload(x, in);
                state.set(random(rng, L * B * H), random(rng, L * B * H));
                state.reset();
                lstm.forward(state, in, out);
                assertTrue(maxDiff(byDefault[0], backend.download(out)) <= 1e-14);
            }
            // a workspace switched back to the zero state ignores what its state buffers hold
            try (Lstm.Workspace ws = lstm.workspace(T, B)) {
                ws.setInputs(x);
                ws.setInitialState(random(rng, L * B * H), random(rng, L * B * H));
                lstm.forward(ws);
                assertNotEquals(byDefault[0][0], ws.downloadOutputs()[0]);
                ws.setInitialStateGiven(false);
                lstm.forward(ws);
                assertArrayEquals(byDefault[0], ws.downloadOutputs(), 0.0);
            }
        }
    }

    @Test
    void carryingTheFinalStateOverTwoChunksEqualsOneSequence() {
        Random rng = new Random(3);
        double[] x = random(rng, 2 * T * B * X);
        try (Backend backend = new CpuBackend64(); Lstm lstm = Lstm.create(backend, X, H, L, 4)) {
            double[][] whole = trainingForward(lstm, x, null, null);
            try (Lstm.Workspace ws = lstm.workspace(T, B)) {
                ws.setInputs(Arrays.copyOfRange(x, 0, T * B * X));
                lstm.forward(ws);
                double[] first = ws.downloadOutputs();
                ws.carryFinalState();
                assertTrue(ws.initialStateGiven());
                ws.setInputs(Arrays.copyOfRange(x, T * B * X, x.length));
                lstm.forward(ws);
                double[] second = ws.downloadOutputs();
                double[] joined = new double[whole[0].length];
                System.arraycopy(first, 0, joined, 0, first.length);
                System.arraycopy(second, 0, joined, first.length, second.length);
                assertTrue(maxDiff(whole[0], joined) <= 1e-14, "outputs " + maxDiff(whole[0], joined));
                assertTrue(maxDiff(whole[2], ws.downloadFinalC()) <= 1e-14);
            }
        }
    }

    /** Every gradient of a training step, float32 against float64 on the same numbers. */
    @Test
    void float32AgreesWithFloat64() {
        Random rng = new Random(4);
        double[] x = random(rng, T * B * X);
        double[] h0 = random(rng, L * B * H);
        double[] c0 = random(rng, L * B * H);
        double[] r = random(rng, T * B * H);
        double[] rh = random(rng, L * B * H);
        double[] rc = random(rng, L * B * H);
        double[][] results = new double[2][];
        int i = 0;
        for (Backend backend : new Backend[] {new CpuBackend64(), new CpuBackend32()}) {
            try (backend; Lstm lstm = Lstm.create(backend, X, H, L, 5); Lstm.Workspace ws = lstm.workspace(T, B)) {
                ws.setInputs(x);
                ws.setInitialState(h0, c0);
                lstm.forward(ws);
                ws.setOutputGrads(r);
                ws.setFinalStateGrads(rh, rc);
                lstm.backward(ws);
                results[i++] = concat(ws.downloadOutputs(), ws.downloadFinalH(), ws.downloadFinalC(),
                        ws.downloadInputGrads(), ws.downloadInitialHGrads(), ws.downloadInitialCGrads(),
                        lstm.gradients());
            }
        }
        double scale = Arrays.stream(results[0]).map(Math::abs).max().orElseThrow();
        double d = maxDiff(results[0], results[1]);
        // inputs, state and parameters rounded to float (2^-24), then a few dozen float roundings
        assertTrue(d <= 1e-5 * scale, "float32 deviates by " + d + " at scale " + scale);
        assertTrue(d > 0, "the float32 run must really run in float");
    }

    private static double[] concat(double[]... parts) {
        int n = 0;
        for (double[] p : parts) {
            n += p.length;
        }
        double[] out = new double[n];
        int at = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Test
    void finiteDifferencesConfirmEveryGradientWithStates() {
        for (long seed : new long[] {1, 2}) {
            GradientCheck.Result r = GradientCheck.lstmStack(seed);
            List<String> names = r.tensors().stream().map(t -> t.tensor().name()).toList();
            assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1",
                    "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "input", "h0", "c0"), names);
            assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + " in " + r.tensors());
        }
    }

    @Test
    void inputGradientsCanBeSkipped() {
        Random rng = new Random(5);
        try (Backend backend = new CpuBackend64(); Lstm lstm = Lstm.create(backend, X, H, 2, 6);
             Lstm.Workspace ws = lstm.workspace(T, B)) {
            ws.setInputs(random(rng, T * B * X));
            ws.setOutputGrads(random(rng, T * B * H));
            lstm.forward(ws);
            lstm.backward(ws, false);
            double[] g = lstm.gradients();
            assertArrayEquals(new double[T * B * X], ws.downloadInputGrads(), 0.0);
            lstm.backward(ws);
            assertArrayEquals(g, lstm.gradients(), 0.0, "the parameter gradients do not depend on the choice");
            assertTrue(Arrays.stream(ws.downloadInputGrads()).anyMatch(v -> v != 0));
        }
    }

    @Test
    void layersShareOneArenaUnderTheirPrefixes() {
        ParameterArena.Layout layout = new ParameterArena.Layout();
        Lstm.addParameters(layout, "a.", X, H, 2);
        Lstm.addParameters(layout, "b.", H, 4, 1);
        assertEquals(Lstm.parameterCount(X, H, 2) + Lstm.parameterCount(H, 4, 1), layout.size());
        try (Backend backend = new CpuBackend64(); ParameterArena arena = new ParameterArena(backend, layout)) {
            Lstm a = new Lstm(arena, "a.", X, H, 2, 0);
            Lstm b = new Lstm(arena, "b.", H, 4, 1, 0);
            assertEquals("a.weight_ih_l0", a.parameterTensors().get(0).name());
            assertEquals("b.bias_hh_l0", b.parameterTensors().get(3).name());
            assertArrayEquals(new double[layout.size()], arena.downloadParams(), 0.0, "a new arena is zero");
            a.initialize(11);
            b.initialize(12);
            double[] all = arena.downloadParams();
            double[] pa = a.parameters();
            double[] pb = b.parameters();
            assertArrayEquals(pa, Arrays.copyOfRange(all, 0, pa.length), 0.0);
            assertArrayEquals(pb, Arrays.copyOfRange(all, pa.length, all.length), 0.0);
            // PyTorch's initialisation range, per layer's H
            assertTrue(Arrays.stream(pa).allMatch(v -> Math.abs(v) <= 1 / Math.sqrt(H)));
            assertTrue(Arrays.stream(pb).allMatch(v -> Math.abs(v) <= 1 / Math.sqrt(4)));
            assertTrue(Arrays.stream(pb).anyMatch(v -> Math.abs(v) > 1 / Math.sqrt(H)));
            // closing a layer over a shared arena leaves the arena open
            a.close();
            assertEquals(all.length, arena.downloadParams().length);
            // a layer needing another shape than the arena holds is refused by name
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Lstm(arena, "a.", X + 1, H, 2, 0));
            assertTrue(e.getMessage().contains("a.weight_ih_l0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new Lstm(arena, "c.", X, H, 1, 0));
            assertTrue(e.getMessage().contains("c.weight_ih_l0"), e.getMessage());
        }
    }

    @Test
    void initialisationIsSeededAndUniformInPyTorchsRange() {
        try (Backend backend = new CpuBackend64(); Lstm a = Lstm.create(backend, X, H, L, 42);
             Lstm b = Lstm.create(backend, X, H, L, 42); Lstm c = Lstm.create(backend, X, H, L, 43)) {
            double[] pa = a.parameters();
            assertArrayEquals(pa, b.parameters(), 0.0);
            assertFalse(Arrays.equals(pa, c.parameters()));
            double k = 1 / Math.sqrt(H);
            assertTrue(Arrays.stream(pa).allMatch(v -> v >= -k && v < k));
            double mean = Arrays.stream(pa).average().orElseThrow();
            double meanSquare = Arrays.stream(pa).map(v -> v * v).average().orElseThrow();
            assertEquals(0, mean, 0.03); // U(-k, k): mean 0, mean square k^2/3; n = 800
            assertEquals(k * k / 3, meanSquare, 0.1 * k * k / 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void allocationsAreWhatTheFormulasSayAndInferenceAllocatesNothingMore(Precision p) {
        for (int[] s : new int[][] {{1, 1, 1, 1, 1}, {5, 3, 7, 4, 2}, {4, 2, 3, 6, 3}}) {
            int steps = s[0];
            int batch = s[1];
            int input = s[2];
            int hidden = s[3];
            int layers = s[4];
            try (AbstractBackend b = (AbstractBackend) new CpuBackendProvider().create(p);
                 Lstm lstm = Lstm.create(b, input, hidden, layers, 1)) {
                long params = 2 * Lstm.parameterCount(input, hidden, layers) * p.bytes();
                assertEquals(params, b.allocatedBytes());
                try (Lstm.Workspace ws = lstm.workspace(steps, batch)) {
                    assertEquals(params + Lstm.workspaceElements(steps, batch, input, hidden, layers) * p.bytes(),
                            b.allocatedBytes(), Arrays.toString(s));
                }
                try (Lstm.State state = lstm.state(batch); Buffer in = b.allocate(steps * batch * input);
                     Buffer out = b.allocate(steps * batch * hidden)) {
                    long before = b.allocatedBytes();
                    assertEquals(params + (Lstm.stateElements(batch, hidden, layers)
                            + (long) steps * batch * (input + hidden)) * p.bytes(), before);
                    lstm.forward(state, in, out);
                    lstm.step(state, in.slice(0, batch * input));
                    assertEquals(before, b.allocatedBytes(), "inference allocates nothing");
                }
                assertEquals(params, b.allocatedBytes(), "workspaces and states release what they took");
            }
        }
    }

    @Test
    void badArgumentsAreNamed() {
        try (Backend backend = new CpuBackend64(); Lstm lstm = Lstm.create(backend, X, H, 2, 1);
             Lstm other = Lstm.create(backend, X, H, 2, 1); Lstm.Workspace ws = lstm.workspace(T, B);
             Lstm.State state = lstm.state(B); Buffer in = backend.allocate(T * B * X)) {
            assertMessage("dropout", () -> Lstm.create(backend, X, H, 2, -0.1, 1));
            assertMessage("dropout", () -> Lstm.create(backend, X, H, 2, Double.NaN, 1));
            assertMessage("dropout", () -> Lstm.create(backend, X, H, 2, 1.0, 1));
            assertMessage("numLayers", () -> Lstm.create(backend, X, H, 0, 1));
            assertMessage("hidden", () -> Lstm.create(backend, X, 0, 1, 1));
            assertMessage("inputSize", () -> Lstm.create(backend, 0, H, 1, 1));
            assertMessage("backend", () -> Lstm.create(null, X, H, 1, 1));
            assertMessage("steps", () -> lstm.workspace(0, B));
            assertMessage("batch", () -> lstm.state(0));
            assertMessage("another Lstm", () -> other.forward(ws));
            assertMessage("another Lstm", () -> other.step(state, in.slice(0, B * X)));
            assertMessage("inputs", () -> ws.setInputs(new double[3]));
            assertMessage("h0", () -> ws.setInitialState(new double[1], new double[2 * B * H]));
            assertMessage("x", () -> lstm.step(state, in.slice(0, B * X + 1)));
            assertMessage("inputs", () -> lstm.forward(state, in.slice(0, B * X + 1), in));
            try (Buffer out = backend.allocate(B * H)) {
                assertMessage("outputs", () -> lstm.forward(state, in, out));
            }
            try (Buffer both = backend.allocate(T * B * (X + H))) {
                assertMessage("overlap", () -> lstm.forward(state, both.slice(0, T * B * X),
                        both.slice(T * B * X - 1, T * B * H)));
                lstm.forward(state, both.slice(0, T * B * X), both.slice(T * B * X, T * B * H));
            }
            assertMessage("values", () -> lstm.setParameters(new double[5]));
            assertMessage("already", () -> Lstm.addParameters(Lstm.addParameters(new ParameterArena.Layout(), "",
                    X, H, 1), "", X, H, 1));
            assertEquals(List.of(0.0), List.of(lstm.dropout()));
            ParamTensor first = lstm.parameterTensors().get(0);
            assertEquals(4 * H, first.rows());
        }
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), () -> "message '" + e.getMessage() + "' should name " + part);
    }
}

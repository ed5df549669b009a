package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;

/**
 * The generic operations on CUDA against the CPU reference, in {@link CudaOpParityTest}'s style: both precisions,
 * awkward sizes (1, odd, either side of the blocks of 256 and of the reduction's chunks, large), every buffer a view
 * at an odd offset with NaN guards around it, mismatches listed with {@code |got - ref| <= atol + rtol |ref|}.
 *
 * <p>Most of these are compared <em>bit for bit</em> ({@code tol = 0}), because the kernels do exactly the CPU's
 * operations in the CPU's order without FMA ({@code -fmad=false}): MSE and the L2 norm (the same deterministic
 * partition on both), the embedding gather and its scatter-add (each element summed in ascending index order on both),
 * bias-add, dropout (the same Philox bits), the clipping factor and scaling, SGD with momentum. Only where CUDA's
 * {@code exp}, {@code log} or {@code pow} may round differently from Java's by an ulp or two are tolerances used:
 * cross-entropy ({@code exp}/{@code log} per class, so {@code 8u} per class term) and Adam (the bias corrections'
 * {@code pow}). The cross-entropy kernels also sum a row's classes in their own fixed order (one warp per row: lane t
 * takes classes t, t + 32, ..., then the lanes pairwise) where the CPU sums sequentially, and in float32 use
 * {@code expf}/{@code logf} (2 and 1 ulps): per row the loss then differs from the CPU's by at most about
 * {@code (classes + ceil(classes / 32) + 6) u + 6u |loss|} (docs/parity.md), inside the {@code (classes + 8) 8u}
 * absolute, {@code 8u} relative bound kept here.
 */
@RequiresCuda
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaGenericOpParityTest {

    private static final int[] LENGTHS = {1, 7, 255, 256, 257, 4097, 70_001};
    private static final int SHOW = 8;

    private final Map<String, Backend> open = new HashMap<>();

    Backend cuda(Precision p) {
        return open.computeIfAbsent("cuda " + p, k -> CudaBackendProvider.create(p, false));
    }

    Backend cpu(Precision p) {
        return open.computeIfAbsent("cpu " + p, k -> new CpuBackendProvider().create(p));
    }

    @AfterAll
    void closeAll() {
        open.values().forEach(Backend::close);
    }

    static Stream<Arguments> precisionsAndLengths() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int n : LENGTHS) {
                out.add(Arguments.of(p, n));
            }
        }
        return out.stream();
    }

    private static double u(Precision p) {
        return p == Precision.FLOAT64 ? 0x1p-53 : 0x1p-24;
    }

    // ---- harness (as CudaOpParityTest's) -------------------------------------------------------------------------

    /** Buffers at odd offsets inside one allocation, NaN between them. */
    private static final class Views implements AutoCloseable {
        final Backend backend;
        final Buffer all;
        final Buffer[] views;
        final int[] starts;

        Views(Backend backend, double[][] data) {
            this.backend = backend;
            int total = 3;
            starts = new int[data.length];
            for (int i = 0; i < data.length; i++) {
                starts[i] = total;
                total += data[i].length + 5;
            }
            all = backend.allocate(total);
            double[] host = new double[total];
            Arrays.fill(host, Double.NaN);
            for (int i = 0; i < data.length; i++) {
                System.arraycopy(data[i], 0, host, starts[i], data[i].length);
            }
            backend.upload(host, all);
            views = new Buffer[data.length];
            for (int i = 0; i < data.length; i++) {
                views[i] = all.slice(starts[i], data[i].length);
            }
        }

        double[] get(int i) {
            return backend.download(views[i]);
        }

        void assertGuards(String what) {
            double[] host = backend.download(all);
            int v = 0;
            for (int i = 0; i < host.length; i++) {
                if (v < starts.length && i == starts[v]) {
                    i += views[v].length() - 1;
                    v++;
                    continue;
                }
                if (!Double.isNaN(host[i])) {
                    fail(what + ": element " + i + " outside every view was written (" + host[i] + ")");
                }
            }
        }

        @Override
        public void close() {
            all.close();
        }
    }

    interface Op {
        void run(Backend b, Buffer[] v);
    }

    /** Runs {@code op} on the CPU and on CUDA and compares the listed outputs, {@code atol[k]} for output k. */
    private void compare(String what, Precision p, double[][] data, int[] outputs, double rtol, double[] atol, Op op) {
        try (Views r = new Views(cpu(p), data); Views g = new Views(cuda(p), data)) {
            op.run(cpu(p), r.views);
            op.run(cuda(p), g.views);
            for (int k = 0; k < outputs.length; k++) {
                assertClose(what + " output " + outputs[k], g.get(outputs[k]), r.get(outputs[k]), rtol, atol[k]);
            }
            g.assertGuards(what);
        }
    }

    private static void assertClose(String what, double[] got, double[] ref, double rtol, double atol) {
        assertEquals(ref.length, got.length, what);
        StringBuilder shown = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs(got[i] - ref[i]);
            boolean ok = Double.doubleToLongBits(got[i]) == Double.doubleToLongBits(ref[i])
                    || d <= atol + rtol * Math.abs(ref[i]);
            if (!ok) {
                if (bad < SHOW) {
                    shown.append(String.format("%n  [%d] got %.17g ref %.17g |diff| %.3g", i, got[i], ref[i], d));
                }
                bad++;
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + ref.length + " elements differ; first " + Math.min(bad, SHOW) + ":"
                    + shown);
        }
    }

    private static double[] random(SplittableRandom rng, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rng.nextDouble() * 2 - 1) * scale;
        }
        return x;
    }

    private static double[] indices(SplittableRandom rng, int n, int limit) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextInt(limit);
        }
        return x;
    }

    private static double[] nan(int n) {
        double[] x = new double[n];
        Arrays.fill(x, Double.NaN);
        return x;
    }

    // ---- losses --------------------------------------------------------------------------------------------------

    static Stream<Arguments> crossEntropyShapes() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int rows : new int[] {1, 7, 255, 256, 257, 1000}) {
                for (int classes : new int[] {1, 7, 33, 300, 5000}) {
                    out.add(Arguments.of(p, rows, classes));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} rows={1} classes={2}")
    @MethodSource("crossEntropyShapes")
    void crossEntropy(Precision p, int rows, int classes) {
        SplittableRandom rng = new SplittableRandom(rows * 31L + classes);
        double[] x = random(rng, rows * classes, 8);
        for (int j = 0; j < classes; j++) {
            x[j] += 1000; // large logits in the first row
        }
        double[] t = indices(rng, rows, classes);
        double tol = (classes + 8) * 8 * u(p); // exp/log may differ by an ulp or two per term, the order of the sum
        compare("crossEntropyForward", p, new double[][] {x, t, nan(rows)}, new int[] {2}, 8 * u(p),
                new double[] {tol}, (b, v) -> b.crossEntropyForward(rows, classes, v[0], v[1], v[2], false));
        compare("crossEntropyForward mean", p, new double[][] {x, t, nan(1)}, new int[] {2}, 8 * u(p),
                new double[] {tol}, (b, v) -> b.crossEntropyForward(rows, classes, v[0], v[1], v[2], true));
        compare("crossEntropyBackward", p, new double[][] {x, t, nan(rows * classes)}, new int[] {2}, 8 * u(p),
                new double[] {tol / rows}, (b, v) -> b.crossEntropyBackward(rows, classes, v[0], v[1], 1.0 / rows,
                        v[2]));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void crossEntropyBadTargetsGiveNaNRowsAndTouchNothingElse(Precision p) {
        int rows = 4;
        int classes = 3;
        double[] t = {0, 3, -1, 2.5};
        try (Views g = new Views(cuda(p), new double[][] {random(new SplittableRandom(1), 12, 1), t, nan(4), nan(12),
                                                          nan(1)})) {
            Backend b = cuda(p);
            b.crossEntropyForward(rows, classes, g.views[0], g.views[1], g.views[2], false);
            b.crossEntropyBackward(rows, classes, g.views[0], g.views[1], 1, g.views[3]);
            b.crossEntropyForward(rows, classes, g.views[0], g.views[1], g.views[4], true);
            double[] loss = g.get(2);
            assertTrue(Double.isFinite(loss[0]), "a good target's loss");
            for (int r = 1; r < rows; r++) {
                assertTrue(Double.isNaN(loss[r]), "row " + r + " has a bad target: NaN loss");
            }
            double[] d = g.get(3);
            for (int j = 0; j < classes; j++) {
                assertTrue(Double.isFinite(d[j]));
                assertTrue(Double.isNaN(d[classes + j]), "NaN gradient row for a bad target");
            }
            assertTrue(Double.isNaN(g.get(4)[0]), "the mean over a bad target is NaN");
            g.assertGuards("bad targets");
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void mseIsBitForBitTheCpus(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(n + 11);
        double[] pred = random(rng, n, 3);
        double[] target = random(rng, n, 3);
        compare("mseForward", p, new double[][] {pred, target, nan(1)}, new int[] {2}, 0, new double[] {0},
                (b, v) -> b.mseForward(v[0], v[1], v[2]));
        compare("mseBackward", p, new double[][] {pred, target, nan(n)}, new int[] {2}, 0, new double[] {0},
                (b, v) -> b.mseBackward(v[0], v[1], 2.0 / n, v[2]));
        compare("mseBackward in place", p, new double[][] {pred, target}, new int[] {0}, 0, new double[] {0},
                (b, v) -> b.mseBackward(v[0], v[1], 2.0 / n, v[0]));
    }

    // ---- layers --------------------------------------------------------------------------------------------------

    static Stream<Arguments> embeddingShapes() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int[] s : new int[][] {{1, 1, 1}, {7, 3, 300}, {65, 7, 1000}, {1000, 1, 257}, {3, 300, 65},
                                        {100_000, 2, 4000}}) {
                out.add(Arguments.of(p, s[0], s[1], s[2]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} vocab={1} dim={2} n={3}")
    @MethodSource("embeddingShapes")
    void embeddingIsBitForBitTheCpus(Precision p, int vocab, int dim, int n) {
        SplittableRandom rng = new SplittableRandom(vocab * 7L + dim * 3L + n);
        double[] table = random(rng, vocab * dim, 1);
        double[] idx = indices(rng, n, Math.min(vocab, 5 + vocab / 3)); // repeats: the scatter must sum them in order
        double[] dOut = random(rng, n * dim, 1);
        compare("embeddingForward", p, new double[][] {table, idx, nan(n * dim)}, new int[] {2}, 0, new double[] {0},
                (b, v) -> b.embeddingForward(vocab, dim, v[0], v[1], v[2]));
        for (boolean acc : new boolean[] {false, true}) {
            compare("embeddingBackward accumulate=" + acc, p, new double[][] {idx, dOut, random(rng, vocab * dim, 1)},
                    new int[] {2}, 0, new double[] {0},
                    (b, v) -> b.embeddingBackward(vocab, dim, v[0], v[1], v[2], acc));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void embeddingBadIndicesGiveNaNRowsAndAreSkippedByTheGradient(Precision p) {
        int vocab = 4;
        int dim = 3;
        double[] idx = {1, 4, -2, 0.5, 3};
        double[] table = random(new SplittableRandom(2), vocab * dim, 1);
        double[] dOut = random(new SplittableRandom(3), idx.length * dim, 1);
        try (Views g = new Views(cuda(p), new double[][] {table, idx, nan(idx.length * dim), dOut, nan(vocab * dim)})) {
            Backend b = cuda(p);
            b.embeddingForward(vocab, dim, g.views[0], g.views[1], g.views[2]);
            b.embeddingBackward(vocab, dim, g.views[1], g.views[3], g.views[4], false);
            double[] out = g.get(2);
            double[] tableOnDevice = g.get(0);
            double[] dTable = g.get(4);
            double[] dOutOnDevice = g.get(3);
            for (int e = 0; e < dim; e++) {
                assertEquals(tableOnDevice[dim + e], out[e], "good index 1");
                assertEquals(tableOnDevice[3 * dim + e], out[4 * dim + e], "good index 3");
                for (int i = 1; i <= 3; i++) {
                    assertTrue(Double.isNaN(out[i * dim + e]), "bad index at " + i + ": NaN row");
                }
                assertEquals(dOutOnDevice[e], dTable[dim + e], "row 1 got its one contribution");
                assertEquals(dOutOnDevice[4 * dim + e], dTable[3 * dim + e], "row 3 got its one contribution");
                assertEquals(0, dTable[e], "row 0: the bad index 0.5 is skipped");
                assertEquals(0, dTable[2 * dim + e], "row 2: nothing");
            }
            g.assertGuards("bad indices");
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void biasAddIsBitForBitTheCpus(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(n + 5);
        for (int cols : new int[] {1, 7, 300}) {
            int rows = Math.max(1, n / cols);
            double[] x = random(rng, rows * cols, 2);
            double[] bias = random(rng, cols, 2);
            compare("biasAdd", p, new double[][] {x, bias, nan(rows * cols)}, new int[] {2}, 0, new double[] {0},
                    (b, v) -> b.biasAdd(rows, cols, v[0], v[1], v[2]));
            compare("biasAdd in place", p, new double[][] {x, bias}, new int[] {0}, 0, new double[] {0},
                    (b, v) -> b.biasAdd(rows, cols, v[0], v[1], v[0]));
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void dropoutDrawsTheCpusMask(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(n + 17);
        double[] x = random(rng, n, 2);
        double[] dy = random(rng, n, 2);
        for (double drop : new double[] {0, 0.1, 0.5, 0.9}) {
            for (long offset : new long[] {0, 0xffff_ffffL, -3}) { // a counter carried into the high word, and wrapped
                compare("dropoutForward p=" + drop + " offset=" + offset, p, new double[][] {x, nan(n), nan(n)},
                        new int[] {1, 2}, 0, new double[] {0, 0},
                        (b, v) -> b.dropoutForward(v[0], drop, 0x1234_5678_9abc_def0L, offset, v[1], v[2]));
                compare("dropoutForward in place", p, new double[][] {x, nan(n)}, new int[] {0, 1}, 0,
                        new double[] {0, 0}, (b, v) -> b.dropoutForward(v[0], drop, -7, offset, v[1], v[0]));
            }
            compare("dropoutBackward", p, new double[][] {x, dy, nan(n), nan(n)}, new int[] {3}, 0, new double[] {0},
                    (b, v) -> {
                        b.dropoutForward(v[0], drop, 99, 5, v[2], v[0]);
                        b.dropoutBackward(v[1], v[2], v[3]);
                    });
        }
    }

    // ---- gradient norm, clipping, optimizers -------------------------------------------------------------------

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void l2NormClipAndScaleAreBitForBitTheCpus(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(n + 23);
        double[] x = random(rng, n, 2);
        compare("l2Norm", p, new double[][] {x, nan(1)}, new int[] {1}, 0, new double[] {0},
                (b, v) -> b.l2Norm(v[0], v[1]));
        for (double maxNorm : new double[] {0.5, 1e6, 0}) {
            compare("clip maxNorm=" + maxNorm, p, new double[][] {x, nan(1), nan(1)}, new int[] {0, 1, 2}, 0,
                    new double[] {0, 0, 0}, (b, v) -> {
                        b.l2Norm(v[0], v[1]);
                        b.clipCoefficient(v[1], maxNorm, v[2]);
                        b.scaleBy(v[0], v[2]);
                    });
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void l2NormOfALargeBufferIsTheSameOnEveryRunAndTheCpus(Precision p) {
        int n = (1 << 22) + 3; // 1025 chunks
        double[] x = random(new SplittableRandom(29), n, 1);
        compare("l2Norm large", p, new double[][] {x, nan(1)}, new int[] {1}, 0, new double[] {0},
                (b, v) -> b.l2Norm(v[0], v[1]));
        try (Views g = new Views(cuda(p), new double[][] {x, nan(1)})) {
            cuda(p).l2Norm(g.views[0], g.views[1]);
            double first = g.get(1)[0];
            for (int run = 0; run < 5; run++) {
                cuda(p).l2Norm(g.views[0], g.views[1]);
                assertEquals(Double.doubleToLongBits(first), Double.doubleToLongBits(g.get(1)[0]), "run " + run);
            }
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void adamAndSgdMomentumOverSeveralSteps(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(n + 41);
        double[] params = random(rng, n, 1);
        double[][] grads = new double[5][];
        for (int s = 0; s < grads.length; s++) {
            grads[s] = random(rng, n, 2);
        }
        for (double[] h : new double[][] {{1e-3, 0.9, 0.999, 1e-8, 0}, {0.1, 0.3, 0.5, 1e-3, 0.1}}) {
            // params, grads, m, v, step; the bias corrections' pow may round differently: a few ulps.
            compare("adam " + Arrays.toString(h), p, new double[][] {params, grads[0], new double[n], new double[n],
                    new double[1]}, new int[] {0, 2, 3, 4}, 64 * u(p), new double[] {64 * u(p), 64 * u(p), 64 * u(p),
                    0}, (b, v) -> {
                        for (double[] g : grads) {
                            b.upload(g, v[1]);
                            b.adamUpdate(v[0], v[1], v[2], v[3], v[4], h[0], h[1], h[2], h[3], h[4]);
                        }
                    });
        }
        for (double[] h : new double[][] {{0.1, 0.9, 0}, {0.05, 0, 0.1}}) {
            compare("sgdMomentum " + Arrays.toString(h), p, new double[][] {params, grads[0], random(rng, n, 3),
                    new double[1]}, new int[] {0, 2, 3}, 0, new double[] {0, 0, 0}, (b, v) -> {
                        for (double[] g : grads) {
                            b.upload(g, v[1]);
                            b.sgdMomentumUpdate(v[0], v[1], v[2], v[3], h[0], h[1], h[2]);
                        }
                    });
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void aRecordedClipAndAdamStepReplaysItsDeviceState(Precision p) {
        int n = 1000;
        SplittableRandom rng = new SplittableRandom(43);
        double[] params = random(rng, n, 1);
        double[] grads = random(rng, n, 5);
        double[][] data = {params, grads, new double[n], new double[n], new double[1], nan(1), nan(1)};
        Op step = (b, v) -> {
            b.l2Norm(v[1], v[5]);
            b.clipCoefficient(v[5], 1.0, v[6]);
            b.scaleBy(v[1], v[6]);
            b.adamUpdate(v[0], v[1], v[2], v[3], v[4], 0.01, 0.9, 0.999, 1e-8, 0.01);
        };
        try (Views r = new Views(cpu(p), data); Views g = new Views(cuda(p), data)) {
            try (Backend.Replay replay = cuda(p).record(() -> step.run(cuda(p), g.views))) {
                assertTrue(replay.recorded(), "CUDA records a graph");
                for (int i = 0; i < 4; i++) {
                    cuda(p).upload(grads, g.views[1]);
                    replay.replay();
                    cpu(p).upload(grads, r.views[1]);
                    step.run(cpu(p), r.views);
                }
            }
            assertEquals(4, g.get(4)[0], "four replays, four steps");
            assertClose("replayed params", g.get(0), r.get(0), 64 * u(p), 64 * u(p));
            g.assertGuards("replayed step");
        }
    }
}

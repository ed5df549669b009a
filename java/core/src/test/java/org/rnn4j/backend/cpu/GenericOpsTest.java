package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Philox;
import org.rnn4j.backend.Precision;

/**
 * The generic operations (losses, embedding, bias-add, dropout, the gradient norm and clipping, Adam and SGD with
 * momentum) on both CPU backends against plain double-precision references written out here from the formulas on
 * {@link Backend} (and, for the optimizers, from PyTorch's {@code _single_tensor_adam} / {@code _single_tensor_sgd}),
 * on random inputs of awkward sizes (1, 7, 65, 300, and past the reduction's chunks), with
 * {@code |got - ref| <= atol + rtol * |ref|}. The references read the inputs back from the backend, so in float32 they
 * see exactly the floats the operation saw. Where an operation promises an exact order (the embedding gradient, the
 * deterministic reduction, the optimizers' arithmetic), the reference follows it and float64 is compared bit for bit.
 */
class GenericOpsTest {

    private static final int[] SIZES = {1, 7, 65, 300};
    private static final int SHOW = 8;

    static Backend cpu(Precision p) {
        return p == Precision.FLOAT64 ? new CpuBackend64() : new CpuBackend32();
    }

    private static double u(Precision p) {
        return p == Precision.FLOAT64 ? 0x1p-53 : 0x1p-24;
    }

    /** Rounds to the precision: float arithmetic is emulated exactly by double arithmetic rounded after each step. */
    private static double r(Precision p, double x) {
        return p == Precision.FLOAT64 ? x : (double) (float) x;
    }

    static void assertClose(String what, double[] got, double[] ref, double rtol, double atol) {
        assertEquals(ref.length, got.length, what + ": length");
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
            fail(String.format("%s: %d of %d outside atol %.3g + rtol %.3g * |ref|; first:%s", what, bad, ref.length,
                    atol, rtol, shown));
        }
    }

    static void assertSameBits(String what, double[] got, double[] want) {
        assertClose(what, got, want, 0, 0);
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

    /** A buffer holding {@code values} (as rounded to the precision). */
    private static Buffer up(Backend be, double[] values) {
        Buffer b = be.allocate(values.length);
        be.upload(values, b);
        return b;
    }

    static Stream<Arguments> precisions() {
        return Stream.of(Arguments.of(Precision.FLOAT64), Arguments.of(Precision.FLOAT32));
    }

    static Stream<Arguments> precisionsAndSizes() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int n : SIZES) {
                out.add(Arguments.of(p, n));
            }
        }
        return out.stream();
    }

    // ---- cross-entropy -------------------------------------------------------------------------------------------

    static Stream<Arguments> crossEntropyCases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int rows : SIZES) {
                for (int classes : new int[] {1, 7, 65, 300}) {
                    out.add(Arguments.of(p, rows, classes));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} rows={1} classes={2}")
    @MethodSource("crossEntropyCases")
    void crossEntropyAgainstReference(Precision p, int rows, int classes) {
        SplittableRandom rng = new SplittableRandom(31L * rows + classes);
        double[] x0 = random(rng, rows * classes, 8);
        for (int r = 0; r < rows; r += 3) {
            for (int j = 0; j < classes; j++) {
                x0[r * classes + j] += 1000; // large logits: only the log-sum-exp form stays finite
            }
        }
        double[] t0 = indices(rng, rows, classes);
        try (Backend be = cpu(p)) {
            Buffer x = up(be, x0);
            Buffer t = up(be, t0);
            Buffer perRow = be.allocate(rows);
            Buffer mean = be.allocate(1);
            Buffer dx = be.allocate(rows * classes);
            double scale = 1.0 / rows;
            be.crossEntropyForward(rows, classes, x, t, perRow, false);
            be.crossEntropyForward(rows, classes, x, t, mean, true);
            be.crossEntropyBackward(rows, classes, x, t, scale, dx);

            double[] xs = be.download(x);
            double[] refLoss = new double[rows];
            double[] refGrad = new double[rows * classes];
            double sc = r(p, scale);
            double sumAbs = 0;
            for (int row = 0; row < rows; row++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < classes; j++) {
                    m = Math.max(m, xs[row * classes + j]);
                }
                double s = 0;
                for (int j = 0; j < classes; j++) {
                    s += Math.exp(xs[row * classes + j] - m);
                }
                int target = (int) t0[row];
                refLoss[row] = Math.log(s) - (xs[row * classes + target] - m);
                sumAbs += Math.abs(refLoss[row]);
                for (int j = 0; j < classes; j++) {
                    double prob = Math.exp(xs[row * classes + j] - m) / s;
                    refGrad[row * classes + j] = (prob - (j == target ? 1 : 0)) * sc;
                }
            }
            double refMean = 0;
            for (double l : refLoss) {
                refMean += l;
            }
            refMean /= rows;
            // Errors: the class sum (classes terms of at most 1) and the subtractions around it, a few u each.
            double tol = (classes + 64) * 4 * u(p);
            assertClose("loss per row", be.download(perRow), refLoss, 64 * u(p), tol);
            assertClose("mean loss", be.download(mean), new double[] {refMean}, 64 * u(p),
                    (rows + 4) * 2 * u(p) * sumAbs / rows + tol);
            assertClose("dLogits", be.download(dx), refGrad, 64 * u(p), tol * Math.abs(sc));
            for (double g : be.download(dx)) {
                assertTrue(Double.isFinite(g), "gradients stay finite for logits near 1000");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void crossEntropyOfAConfidentRightAnswerIsNearZeroAndOfUniformLogitsIsLogClasses(Precision p) {
        try (Backend be = cpu(p)) {
            Buffer x = up(be, new double[] {0, 0, 0, 0, 50, 0, 0, 0});
            Buffer t = up(be, new double[] {2, 0});
            Buffer loss = be.allocate(2);
            be.crossEntropyForward(2, 4, x, t, loss, false);
            double[] l = be.download(loss);
            assertEquals(Math.log(4), l[0], 8 * u(p) * 4);
            assertEquals(0, l[1], 1e-20); // 3 * exp(-50) below u
        }
    }

    // ---- mean squared error ----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndSizes")
    void mseAgainstReference(Precision p, int n) {
        for (int len : new int[] {n, n * 31 + 4096}) { // and past the reduction's first chunk
            SplittableRandom rng = new SplittableRandom(len);
            try (Backend be = cpu(p)) {
                Buffer pred = up(be, random(rng, len, 3));
                Buffer target = up(be, random(rng, len, 3));
                Buffer loss = be.allocate(1);
                Buffer d = be.allocate(len);
                double scale = 2.0 / len;
                be.mseForward(pred, target, loss);
                be.mseBackward(pred, target, scale, d);
                double[] pv = be.download(pred);
                double[] tv = be.download(target);
                double sum = 0;
                double[] refD = new double[len];
                for (int i = 0; i < len; i++) {
                    double diff = pv[i] - tv[i];
                    sum += diff * diff;
                    refD[i] = diff * r(p, scale);
                }
                assertClose("mse n=" + len, be.download(loss), new double[] {sum / len}, 4 * u(p),
                        2.0 * (len + 4) * u(p) * sum / len);
                assertClose("dPred n=" + len, be.download(d), refD, 4 * u(p), 0);
                // In place.
                be.mseBackward(pred, target, scale, pred);
                assertSameBits("in place", be.download(pred), be.download(d));
            }
        }
    }

    // ---- embedding -----------------------------------------------------------------------------------------------

    static Stream<Arguments> embeddingCases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int vocab : new int[] {1, 7, 65}) {
                for (int dim : new int[] {1, 7, 65}) {
                    for (int n : SIZES) {
                        out.add(Arguments.of(p, vocab, dim, n));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} vocab={1} dim={2} n={3}")
    @MethodSource("embeddingCases")
    void embeddingGatherAndScatterAdd(Precision p, int vocab, int dim, int n) {
        SplittableRandom rng = new SplittableRandom(vocab * 1000L + dim * 10L + n);
        double[] idx = indices(rng, n, vocab);
        try (Backend be = cpu(p)) {
            Buffer table = up(be, random(rng, vocab * dim, 1));
            Buffer ix = up(be, idx);
            Buffer out = be.allocate(n * dim);
            be.embeddingForward(vocab, dim, table, ix, out);
            double[] tv = be.download(table);
            double[] refOut = new double[n * dim];
            for (int i = 0; i < n; i++) {
                System.arraycopy(tv, (int) idx[i] * dim, refOut, i * dim, dim);
            }
            assertSameBits("gather", be.download(out), refOut);

            Buffer dOut = up(be, random(rng, n * dim, 1));
            double[] start = random(rng, vocab * dim, 1);
            for (boolean accumulate : new boolean[] {false, true}) {
                Buffer dTable = up(be, start);
                be.embeddingBackward(vocab, dim, ix, dOut, dTable, accumulate);
                double[] g = be.download(dOut);
                double[] ref = accumulate ? be.download(up(be, start)) : new double[vocab * dim];
                for (int i = 0; i < n; i++) {
                    int k = (int) idx[i];
                    for (int e = 0; e < dim; e++) {
                        ref[k * dim + e] = r(p, ref[k * dim + e] + g[i * dim + e]); // i ascending, as documented
                    }
                }
                assertSameBits("scatter-add accumulate=" + accumulate, be.download(dTable), ref);
            }
        }
    }

    // ---- bias-add --------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} rows={1}")
    @MethodSource("precisionsAndSizes")
    void biasAddBroadcastsOverRows(Precision p, int rows) {
        for (int cols : SIZES) {
            SplittableRandom rng = new SplittableRandom(rows * 7L + cols);
            try (Backend be = cpu(p)) {
                Buffer x = up(be, random(rng, rows * cols, 2));
                Buffer b = up(be, random(rng, cols, 2));
                Buffer y = be.allocate(rows * cols);
                be.biasAdd(rows, cols, x, b, y);
                double[] xv = be.download(x);
                double[] bv = be.download(b);
                double[] ref = new double[rows * cols];
                for (int i = 0; i < rows; i++) {
                    for (int c = 0; c < cols; c++) {
                        ref[i * cols + c] = r(p, xv[i * cols + c] + bv[c]);
                    }
                }
                assertSameBits("biasAdd", be.download(y), ref);
                be.biasAdd(rows, cols, x, b, x);
                assertSameBits("biasAdd in place", be.download(x), ref);
            }
        }
    }

    // ---- dropout ----------------------------------------------------------------------------------------------------

    @Test
    void philoxKnownAnswers() {
        // Random123's kat_vectors: counter[4], key[2] -> output[4].
        int[] out = new int[4];
        Philox.philox4x32(0, 0, 0, 0, 0, 0, out);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
        Philox.philox4x32(-1, -1, -1, -1, -1, -1, out);
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
        Philox.philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
        // block(seed, index): counter [lo, hi, 0, 0], key [lo, hi].
        int[] viaBlock = new int[4];
        Philox.block(0x299f31d0a4093822L, 0x85a308d3243f6a88L, viaBlock);
        Philox.philox4x32(0x243f6a88, 0x85a308d3, 0, 0, 0xa4093822, 0x299f31d0, out);
        assertArrayEquals(out, viaBlock);
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndSizes")
    void dropoutMaskIsPhiloxsAndScalesLikePyTorch(Precision p, int n) {
        double drop = 0.3;
        long seed = 0x1234_5678_9abcL;
        long offset = 77;
        SplittableRandom rng = new SplittableRandom(n);
        try (Backend be = cpu(p)) {
            Buffer x = up(be, random(rng, n, 2));
            Buffer mask = be.allocate(n);
            Buffer y = be.allocate(n);
            be.dropoutForward(x, drop, seed, offset, mask, y);
            double scale = r(p, 1 / r(p, 1 - drop));
            long threshold = (long) Math.floor(drop * 4294967296.0);
            double[] xv = be.download(x);
            double[] refMask = new double[n];
            double[] refY = new double[n];
            int[] w = new int[4];
            for (int i = 0; i < n; i++) {
                Philox.philox4x32((int) (offset + i / 4), 0, 0, 0, (int) seed, (int) (seed >>> 32), w);
                refMask[i] = Integer.toUnsignedLong(w[i % 4]) < threshold ? 0 : scale;
                refY[i] = r(p, xv[i] * refMask[i]);
            }
            assertSameBits("mask", be.download(mask), refMask);
            assertSameBits("y", be.download(y), refY);
            Buffer dy = up(be, random(rng, n, 2));
            Buffer dx = be.allocate(n);
            be.dropoutBackward(dy, mask, dx);
            double[] dyv = be.download(dy);
            double[] refDx = new double[n];
            for (int i = 0; i < n; i++) {
                refDx[i] = r(p, dyv[i] * refMask[i]);
            }
            assertSameBits("dx", be.download(dx), refDx);
            be.dropoutBackward(dy, mask, dy);
            assertSameBits("dx in place", be.download(dy), refDx);
            be.dropoutForward(x, drop, seed, offset, mask, x);
            assertSameBits("y in place", be.download(x), refY);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void dropoutKeepsAboutOneMinusPAndOffsetsCountBlocksOfFour(Precision p) {
        int n = 200_000;
        try (Backend be = cpu(p)) {
            double[] ones = new double[n];
            java.util.Arrays.fill(ones, 1);
            Buffer x = up(be, ones);
            Buffer mask = be.allocate(n);
            Buffer y = be.allocate(n);
            for (double drop : new double[] {0.1, 0.5, 0.9}) {
                be.dropoutForward(x, drop, 42, 0, mask, y);
                int kept = 0;
                for (double m : be.download(mask)) {
                    kept += m != 0 ? 1 : 0;
                }
                double sd = Math.sqrt(n * drop * (1 - drop));
                assertEquals(n * (1 - drop), kept, 6 * sd, "kept elements at p=" + drop);
            }
            be.dropoutForward(x, 0, 42, 0, mask, y);
            assertSameBits("p = 0 keeps everything", be.download(y), ones);
            // Offset o + 1 starts where offset o's fifth element does.
            Buffer a = be.allocate(16);
            Buffer b = be.allocate(12);
            be.dropoutForward(x.slice(0, 16), 0.5, 9, 100, a, be.allocate(16));
            be.dropoutForward(x.slice(0, 12), 0.5, 9, 101, b, be.allocate(12));
            double[] av = be.download(a);
            assertSameBits("offset + 1", be.download(b), java.util.Arrays.copyOfRange(av, 4, 16));
            Buffer c = be.allocate(16);
            be.dropoutForward(x.slice(0, 16), 0.5, 10, 100, c, be.allocate(16));
            assertFalse(java.util.Arrays.equals(av, be.download(c)), "another seed draws another mask");
        }
    }

    // ---- gradient norm and clipping ------------------------------------------------------------------------------

    /** Backend's documented order, written independently: recursive halving over the 256 lane sums. */
    private static double documentedSum(double[] items, int base, Precision p) {
        int n = items.length;
        long c = Math.max(base, (n + 65535L) / 65536);
        int chunk = (int) ((c + 255) / 256 * 256);
        int chunks = (n + chunk - 1) / chunk;
        double[] partials = new double[chunks];
        for (int k = 0; k < chunks; k++) {
            partials[k] = lanesThenTree(items, k * chunk, Math.min(n, (k + 1) * chunk), p);
        }
        return lanesThenTree(partials, 0, chunks, p);
    }

    private static double lanesThenTree(double[] items, int from, int to, Precision p) {
        double[] lanes = new double[256];
        for (int i = from; i < to; i++) {
            int lane = (i - from) % 256;
            lanes[lane] = r(p, lanes[lane] + items[i]);
        }
        return tree(lanes, 0, 256, p);
    }

    /** The pairwise combination as a recursion: lane[t] + lane[t + s] at every level, the halves first. */
    private static double tree(double[] lanes, int from, int width, Precision p) {
        if (width == 1) {
            return lanes[from];
        }
        // The level with stride s = width / 2: lane t (t < s) adds lane t + s; then the same on the first s lanes.
        double[] paired = new double[width / 2];
        for (int t = 0; t < width / 2; t++) {
            paired[t] = r(p, lanes[from + t] + lanes[from + t + width / 2]);
        }
        return tree(paired, 0, width / 2, p);
    }

    @Test
    void reduceChunkFollowsItsFormula() {
        assertEquals(4096, Backend.reduceChunk(0, 4096));
        assertEquals(4096, Backend.reduceChunk(1, 4096));
        assertEquals(4096, Backend.reduceChunk(65536 * 4096, 4096));
        assertEquals(4352, Backend.reduceChunk(65536 * 4096 + 1, 4096)); // ceil(.../65536) = 4097, up to 17 * 256
        assertEquals(32768, Backend.reduceChunk(Integer.MAX_VALUE, 4096));
        assertEquals(256, Backend.reduceChunk(300, 256));
        assertEquals(512, Backend.reduceChunk(65536 * 256 + 1, 256));
        // Never more than 65536 chunks.
        for (int n : new int[] {1, 65536 * 4096, 65536 * 4096 + 1, 1 << 30, Integer.MAX_VALUE}) {
            int c = Backend.reduceChunk(n, 4096);
            assertTrue((n + (long) c - 1) / c <= 65536, "chunks of n = " + n);
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndSizes")
    void l2NormIsTheDocumentedSumAndAgreesWithThePlainOne(Precision p, int n) {
        for (int len : new int[] {n, 4095 + n, 70_001 + n * 4096}) {
            SplittableRandom rng = new SplittableRandom(len);
            try (Backend be = cpu(p)) {
                Buffer x = up(be, random(rng, len, 2));
                Buffer norm = be.allocate(1);
                be.l2Norm(x, norm);
                double[] xv = be.download(x);
                double plain = 0;
                double[] squares = new double[len];
                for (int i = 0; i < len; i++) {
                    plain += xv[i] * xv[i];
                    squares[i] = r(p, xv[i] * xv[i]);
                }
                double got = be.download(norm)[0];
                assertClose("norm vs plain sum, n=" + len, new double[] {got}, new double[] {Math.sqrt(plain)},
                        (len + 8) * u(p), 0);
                assertSameBits("norm in the documented order, n=" + len, new double[] {got},
                        new double[] {r(p, Math.sqrt(documentedSum(squares, 4096, p)))});
                be.l2Norm(x, norm);
                assertSameBits("same on a second run", be.download(norm), new double[] {got});
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void l2NormOfAnEmptyViewIsZero(Precision p) {
        try (Backend be = cpu(p)) {
            Buffer x = be.allocate(3);
            Buffer norm = up(be, new double[] {7});
            be.l2Norm(x.slice(1, 0), norm);
            assertEquals(0, be.download(norm)[0]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void clipCoefficientIsPyTorchsAndScaleByMultiplies(Precision p) {
        try (Backend be = cpu(p)) {
            Buffer norm = be.allocate(1);
            Buffer coef = be.allocate(1);
            for (double[] c : new double[][] {{10, 1}, {0.5, 1}, {3.7, 2.5}, {0, 1}, {1e30, 1e-3}, {Double.NaN, 1},
                                              {2, 0}}) {
                be.upload(new double[] {c[0]}, norm);
                be.clipCoefficient(norm, c[1], coef);
                double nv = be.download(norm)[0];
                double want = r(p, r(p, 1 / r(p, nv + r(p, 1e-6))) * r(p, c[1])); // reciprocal, then * max_norm
                want = want > 1 ? 1 : want;
                assertSameBits("coef for norm " + c[0] + " max " + c[1], be.download(coef), new double[] {want});
            }
            be.upload(new double[] {4}, norm);
            be.clipCoefficient(norm, 1, norm); // in place
            assertSameBits("in place", be.download(norm), new double[] {r(p, r(p, 1 / r(p, 4 + r(p, 1e-6))))});
            SplittableRandom rng = new SplittableRandom(5);
            for (int n : SIZES) {
                double[] xs = random(rng, n, 3);
                Buffer x = up(be, xs);
                double[] xv = be.download(x);
                be.upload(new double[] {0.3}, coef);
                be.scaleBy(x, coef);
                double f = r(p, 0.3);
                double[] ref = new double[n];
                for (int i = 0; i < n; i++) {
                    ref[i] = r(p, xv[i] * f);
                }
                assertSameBits("scaleBy n=" + n, be.download(x), ref);
            }
        }
    }

    // ---- optimizers ---------------------------------------------------------------------------------------------------

    /**
     * PyTorch's {@code _single_tensor_adam}, one tensor, in the precision p (every float32 operation rounded), with the
     * step's scalars in double as Python computes them.
     */
    private static void torchAdam(Precision p, double[] param, double[] grad, double[] m, double[] v, double step,
                                  double lr, double beta1, double beta2, double eps, double wd) {
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2 = 1 - Math.pow(beta2, step);
        double stepSize = lr / biasCorrection1;
        double bc2Sqrt = Math.sqrt(biasCorrection2);
        double w = r(p, 1 - beta1);
        for (int i = 0; i < param.length; i++) {
            double g = grad[i];
            if (wd != 0) {
                g = r(p, g + r(p, r(p, wd) * param[i])); // grad.add(param, alpha=weight_decay)
            }
            // exp_avg.lerp_(grad, 1 - beta1)
            m[i] = w < 0.5 ? r(p, m[i] + r(p, w * r(p, g - m[i]))) : r(p, g - r(p, r(p, g - m[i]) * r(p, 1 - w)));
            // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            v[i] = r(p, r(p, v[i] * r(p, beta2)) + r(p, r(p, r(p, 1 - beta2) * g) * g));
            // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            double denom = r(p, r(p, r(p, Math.sqrt(v[i])) / r(p, bc2Sqrt)) + r(p, eps));
            // param.addcdiv_(exp_avg, denom, value=-step_size)
            param[i] = r(p, param[i] + r(p, r(p, r(p, -stepSize) * m[i]) / denom));
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndSizes")
    void adamFollowsTorchsArithmeticStepByStep(Precision p, int n) {
        double[][] hyper = {{1e-3, 0.9, 0.999, 1e-8, 0}, {0.05, 0.9, 0.99, 1e-6, 0.01}, {0.1, 0.3, 0.5, 1e-3, 0.1}};
        for (double[] h : hyper) {
            SplittableRandom rng = new SplittableRandom(n);
            try (Backend be = cpu(p)) {
                Buffer params = up(be, random(rng, n, 1));
                Buffer grads = be.allocate(n);
                Buffer m = be.allocate(n);
                Buffer v = be.allocate(n);
                Buffer step = be.allocate(1);
                double[] rp = be.download(params);
                double[] rm = new double[n];
                double[] rv = new double[n];
                for (int s = 1; s <= 6; s++) {
                    be.upload(random(rng, n, 2), grads);
                    double[] g = be.download(grads);
                    be.adamUpdate(params, grads, m, v, step, h[0], h[1], h[2], h[3], h[4]);
                    torchAdam(p, rp, g, rm, rv, s, h[0], h[1], h[2], h[3], h[4]);
                    String at = String.format("adam lr=%s betas=(%s, %s) wd=%s step %d", h[0], h[1], h[2], h[4], s);
                    assertSameBits(at + " params", be.download(params), rp);
                    assertSameBits(at + " exp_avg", be.download(m), rm);
                    assertSameBits(at + " exp_avg_sq", be.download(v), rv);
                    assertEquals(s, be.download(step)[0], at + " step count");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void adamsFirstStepMovesEachParameterByAboutLr(Precision p) {
        // m = (1 - b1) g, v = (1 - b2) g^2, so the first update is lr * g / (|g| + eps * sqrt(1 - b2)...) ~ lr sign(g).
        try (Backend be = cpu(p)) {
            Buffer params = up(be, new double[] {1, 1, 1});
            Buffer grads = up(be, new double[] {0.5, -3, 1e-2});
            Buffer m = be.allocate(3);
            Buffer v = be.allocate(3);
            Buffer step = be.allocate(1);
            be.adamUpdate(params, grads, m, v, step, 0.01, 0.9, 0.999, 1e-8, 0);
            assertClose("first Adam step", be.download(params), new double[] {0.99, 1.01, 0.99}, 0, 1e-6);
        }
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndSizes")
    void sgdWithMomentumFollowsTorchsArithmetic(Precision p, int n) {
        for (double[] h : new double[][] {{0.1, 0.9, 0}, {0.05, 0.5, 0.1}, {0.1, 0, 0}}) {
            SplittableRandom rng = new SplittableRandom(n + 3);
            try (Backend be = cpu(p); Backend plain = cpu(p)) {
                double[] p0 = random(rng, n, 1);
                Buffer params = up(be, p0);
                Buffer grads = be.allocate(n);
                Buffer buf = up(be, random(rng, n, 5)); // stale contents: the first step must not read them
                Buffer step = be.allocate(1);
                Buffer plainParams = up(plain, p0);
                Buffer plainGrads = plain.allocate(n);
                double[] rp = be.download(params);
                double[] rb = new double[n];
                for (int s = 0; s < 5; s++) {
                    double[] g0 = random(rng, n, 2);
                    be.upload(g0, grads);
                    plain.upload(g0, plainGrads);
                    double[] g = be.download(grads);
                    be.sgdMomentumUpdate(params, grads, buf, step, h[0], h[1], h[2]);
                    plain.sgdUpdate(plainParams, plainGrads, h[0]);
                    for (int i = 0; i < n; i++) {
                        double gi = g[i];
                        if (h[2] != 0) {
                            gi = r(p, gi + r(p, r(p, h[2]) * rp[i]));
                        }
                        rb[i] = s == 0 ? gi : r(p, r(p, rb[i] * r(p, h[1])) + gi);
                        rp[i] = r(p, rp[i] + r(p, r(p, -h[0]) * rb[i]));
                    }
                    String at = String.format("sgd lr=%s momentum=%s wd=%s step %d", h[0], h[1], h[2], s);
                    assertSameBits(at + " params", be.download(params), rp);
                    assertSameBits(at + " buffer", be.download(buf), rb);
                    assertEquals(s + 1, be.download(step)[0], at + " step count");
                    if (h[1] == 0 && h[2] == 0) {
                        assertSameBits(at + " equals plain sgdUpdate", be.download(params),
                                plain.download(plainParams));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Precision.class)
    void aRecordedOptimizerStepReplaysWithItsDeviceState(Precision p) {
        int n = 9;
        SplittableRandom rng = new SplittableRandom(1);
        double[] p0 = random(rng, n, 1);
        double[] g0 = random(rng, n, 1);
        try (Backend a = cpu(p); Backend b = cpu(p)) {
            Buffer[] sa = {up(a, p0), up(a, g0), a.allocate(n), a.allocate(n), a.allocate(1), a.allocate(1),
                           a.allocate(1)};
            Buffer[] sb = {up(b, p0), up(b, g0), b.allocate(n), b.allocate(n), b.allocate(1), b.allocate(1),
                           b.allocate(1)};
            Runnable stepA = () -> {
                a.l2Norm(sa[1], sa[5]);
                a.clipCoefficient(sa[5], 0.5, sa[6]);
                a.scaleBy(sa[1], sa[6]);
                a.adamUpdate(sa[0], sa[1], sa[2], sa[3], sa[4], 0.01, 0.9, 0.999, 1e-8, 0);
            };
            try (Backend.Replay replay = a.record(stepA)) {
                for (int i = 0; i < 4; i++) {
                    a.upload(g0, sa[1]);
                    replay.replay();
                    b.upload(g0, sb[1]);
                    b.l2Norm(sb[1], sb[5]);
                    b.clipCoefficient(sb[5], 0.5, sb[6]);
                    b.scaleBy(sb[1], sb[6]);
                    b.adamUpdate(sb[0], sb[1], sb[2], sb[3], sb[4], 0.01, 0.9, 0.999, 1e-8, 0);
                }
            }
            assertEquals(4, a.download(sa[4])[0], "the replays advanced the step count");
            assertSameBits("replayed params", a.download(sa[0]), b.download(sb[0]));
        }
    }
}

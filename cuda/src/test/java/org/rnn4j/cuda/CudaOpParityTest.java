package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;

/**
 * Every backend operation on CUDA against the CPU reference, in both precisions and (for GEMM) on both GEMM paths, on
 * random inputs of awkward sizes: 1, odd, one either side of the kernels' block of 256, and large. Buffers are views at
 * odd offsets inside one allocation with NaN guards around them, so an index or offset error in a kernel shows up as
 * a NaN read or a clobbered guard. Mismatches are listed (the first eight) with {@code |got - ref| <= atol + rtol|ref|}.
 *
 * <p>Tolerances: the elementwise kernels evaluate the CPU's formulas in the same order without FMA contraction
 * ({@code -fmad=false}), so in float64, and in float32 where no {@code exp}/{@code tanh} is involved, they differ from
 * the CPU only where CUDA's {@code exp}/{@code tanh} round differently from Java's (at most a couple of ulps):
 * rtol = atol = 8u ({@code u} = 2^-53 or 2^-24, on O(1) values). float32 kernels with {@code expf}/{@code tanhf}
 * (sigmoid, both LSTM cells forward, the standard cell backward) compute in float with CUDA's functions (up to 2 ulps)
 * and FMAs, where the CPU rounds Java's double functions once: rtol = atol = 128u, the bound derived in
 * {@code docs/parity.md} (worst case about 93u for the cells' outputs on these inputs) and checked on the host under
 * the documented worst-case ulp errors ({@code kernel_math_test.cpp}). Sums (GEMM, sumRows)
 * may be summed in another order (cuBLAS), so they get the recursive-summation bound {@code 2(n+2) u sum|terms|}
 * (Higham, sec. 3.1), computed per element from the operands.
 */
@RequiresCuda
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaOpParityTest {

    private static final int[] LENGTHS = {1, 7, 255, 256, 257, 1000, 65537};
    private static final int SHOW = 8;

    /** One backend per kind, made on first use and closed after the class. */
    private final Map<String, Backend> open = new HashMap<>();

    /** The backend under test: CUDA, with cuBLAS or with the built-in GEMM. */
    Backend candidate(Precision p, boolean cublas) {
        return open.computeIfAbsent("cuda " + p + " " + cublas, k -> CudaBackendProvider.create(p, cublas));
    }

    Backend reference(Precision p) {
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

    // ---- harness ------------------------------------------------------------------------------------------------

    /** Buffers placed at odd offsets inside one allocation, NaN between them. */
    private static final class Views {
        final Backend backend;
        final Buffer all;
        final Buffer[] views;
        final int[] starts;

        Views(Backend backend, int[] lengths, double[][] data) {
            this.backend = backend;
            int total = 3;
            starts = new int[lengths.length];
            for (int i = 0; i < lengths.length; i++) {
                starts[i] = total;
                total += lengths[i] + 5; // 5 guard elements after each view
            }
            all = backend.allocate(total);
            double[] host = new double[total];
            java.util.Arrays.fill(host, Double.NaN);
            for (int i = 0; i < lengths.length; i++) {
                System.arraycopy(data[i], 0, host, starts[i], lengths[i]);
            }
            backend.upload(host, all);
            views = new Buffer[lengths.length];
            for (int i = 0; i < lengths.length; i++) {
                views[i] = all.slice(starts[i], lengths[i]);
            }
        }

        double[] get(int i) {
            return backend.download(views[i]);
        }

        /** Every element outside the views must still be NaN. */
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
    }

    interface Op {
        void run(Backend b, Buffer[] v);
    }

    /**
     * Runs {@code op} on the reference and the candidate with the same inputs and compares the buffers listed in
     * {@code outputs}, each with its own tolerance ({@code atol[i]} per element, or one value for all).
     */
    private void compare(String what, Backend ref, Backend got, double[][] data, int[] outputs, double rtol,
                         double[][] atol, Op op) {
        int[] lengths = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            lengths[i] = data[i].length;
        }
        Views r = new Views(ref, lengths, data);
        Views g = new Views(got, lengths, data);
        op.run(ref, r.views);
        op.run(got, g.views);
        for (int k = 0; k < outputs.length; k++) {
            int o = outputs[k];
            assertClose(what + " output " + o, g.get(o), r.get(o), rtol, atol[k]);
        }
        g.assertGuards(what);
        r.all.close();
        g.all.close();
    }

    private static void assertClose(String what, double[] got, double[] ref, double rtol, double[] atol) {
        assertEquals(ref.length, got.length, what);
        StringBuilder shown = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double a = atol.length == 1 ? atol[0] : atol[i];
            double d = Math.abs(got[i] - ref[i]);
            boolean ok = Double.doubleToLongBits(got[i]) == Double.doubleToLongBits(ref[i])
                    || d <= a + rtol * Math.abs(ref[i]);
            if (!ok) {
                if (bad < SHOW) {
                    shown.append(String.format("%n  [%d] got %.17g ref %.17g |diff| %.3g allowed %.3g", i, got[i],
                            ref[i], d, a + rtol * Math.abs(ref[i])));
                }
                bad++;
            }
        }
        if (bad > 0) {
            fail(what + ": " + bad + " of " + ref.length + " elements differ; first " + Math.min(bad, SHOW) + ":"
                    + shown);
        }
    }

    private static double u(Precision p) {
        return p == Precision.FLOAT64 ? 0x1p-53 : 0x1p-24;
    }

    /** The bound of a kernel with exp/tanh: 8u in float64, 128u in float32 (class comment, docs/parity.md). */
    private static double transcendental(Precision p) {
        return p == Precision.FLOAT64 ? 8 * u(p) : 128 * u(p);
    }

    private static double[] random(SplittableRandom rng, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rng.nextDouble() * 2 - 1) * scale;
        }
        return x;
    }

    private static double[] nan(int n) {
        double[] x = new double[n];
        java.util.Arrays.fill(x, Double.NaN);
        return x;
    }

    private static double[][] one(double v) {
        return new double[][] {{v}};
    }

    // ---- elementwise ---------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void sigmoidForwardAndBackward(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(n);
        Backend ref = reference(p);
        Backend got = candidate(p, false);
        double ft = transcendental(p);
        compare("sigmoidForward", ref, got, new double[][] {random(rng, n, 30), nan(n)}, new int[] {1}, ft,
                new double[][] {{ft}}, (b, v) -> b.sigmoidForward(v[0], v[1]));
        compare("sigmoidForward in place", ref, got, new double[][] {random(rng, n, 8)}, new int[] {0}, ft,
                new double[][] {{ft}}, (b, v) -> b.sigmoidForward(v[0], v[0]));
        double tol = 8 * u(p);
        double[] y = random(rng, n, 0.5);
        for (int i = 0; i < n; i++) {
            y[i] += 0.5;
        }
        compare("sigmoidBackward", ref, got, new double[][] {random(rng, n, 3), y, nan(n)}, new int[] {2}, tol,
                new double[][] {{tol}}, (b, v) -> b.sigmoidBackward(v[0], v[1], v[2]));
        compare("sigmoidBackward in place", ref, got, new double[][] {random(rng, n, 3), y}, new int[] {0}, tol,
                new double[][] {{tol}}, (b, v) -> b.sigmoidBackward(v[0], v[1], v[0]));
    }

    @ParameterizedTest(name = "{0} n={1}")
    @MethodSource("precisionsAndLengths")
    void sgdUpdate(Precision p, int n) {
        SplittableRandom rng = new SplittableRandom(31 + n);
        double tol = 2 * u(p);
        compare("sgdUpdate", reference(p), candidate(p, false), new double[][] {random(rng, n, 2), random(rng, n, 5)},
                new int[] {0}, tol, new double[][] {{tol}}, (b, v) -> b.sgdUpdate(v[0], v[1], 0.37));
    }

    static Stream<Arguments> cellShapes() {
        int[][] shapes = {{1, 1}, {1, 7}, {3, 5}, {2, 64}, {5, 100}, {9, 257}, {64, 300}};
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int[] s : shapes) {
                out.add(Arguments.of(p, s[0], s[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} B={1} H={2}")
    @MethodSource("cellShapes")
    void seedLstmCell(Precision p, int batch, int hidden) {
        SplittableRandom rng = new SplittableRandom(batch * 1000L + hidden);
        Backend ref = reference(p);
        Backend got = candidate(p, false);
        int g = 4 * batch * hidden;
        int s = batch * hidden;
        double ft = transcendental(p);
        double[][] t = {{ft}, {ft}, {ft}};
        double tol = 8 * u(p);
        // preact, bias, sPrev, gates, s, h
        compare("seedLstmCellForward", ref, got, new double[][] {random(rng, g, 4), random(rng, 4 * hidden, 1),
                random(rng, s, 2), nan(g), nan(s), nan(s)}, new int[] {3, 4, 5}, ft, t,
                (b, v) -> b.seedLstmCellForward(batch, hidden, v[0], v[1], v[2], v[3], v[4], v[5]));
        compare("seedLstmCellForward gates in place", ref, got, new double[][] {random(rng, g, 4),
                random(rng, 4 * hidden, 1), random(rng, s, 2), nan(s), nan(s)}, new int[] {0, 3, 4}, ft, t,
                (b, v) -> b.seedLstmCellForward(batch, hidden, v[0], v[1], v[2], v[0], v[3], v[4]));
        double[] gates = random(rng, g, 0.5);
        for (int i = 0; i < g; i++) {
            gates[i] += 0.5; // post-activation values in (0, 1); tanh's block may be anywhere in (-1, 1) too
        }
        // gates, s, sPrev, dh, dsNext, dPreact, dsPrev
        compare("seedLstmCellBackward", ref, got, new double[][] {gates, random(rng, s, 2), random(rng, s, 2),
                random(rng, s, 1), random(rng, s, 1), nan(g), nan(s)}, new int[] {5, 6}, tol,
                new double[][] {{tol}, {tol}},
                (b, v) -> b.seedLstmCellBackward(batch, hidden, v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
        compare("seedLstmCellBackward ds in place", ref, got, new double[][] {gates, random(rng, s, 2),
                random(rng, s, 2), random(rng, s, 1), random(rng, s, 1), nan(g)}, new int[] {5, 4}, tol,
                new double[][] {{tol}, {tol}},
                (b, v) -> b.seedLstmCellBackward(batch, hidden, v[0], v[1], v[2], v[3], v[4], v[5], v[4]));
    }

    @ParameterizedTest(name = "{0} B={1} H={2}")
    @MethodSource("cellShapes")
    void standardLstmCell(Precision p, int batch, int hidden) {
        SplittableRandom rng = new SplittableRandom(batch * 1000L + hidden + 500_000L);
        Backend ref = reference(p);
        Backend got = candidate(p, false);
        int g = 4 * batch * hidden;
        int s = batch * hidden;
        double tol = transcendental(p); // forward and backward (tanh(c)) both call exp/tanh
        double[][] t = {{tol}, {tol}, {tol}};
        // preact, biasIh, biasHh, cPrev, gates, c, h
        compare("standardLstmCellForward", ref, got, new double[][] {random(rng, g, 4), random(rng, 4 * hidden, 1),
                random(rng, 4 * hidden, 1), random(rng, s, 2), nan(g), nan(s), nan(s)}, new int[] {4, 5, 6}, tol, t,
                (b, v) -> b.standardLstmCellForward(batch, hidden, v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
        compare("standardLstmCellForward gates in place", ref, got, new double[][] {random(rng, g, 4),
                random(rng, 4 * hidden, 1), random(rng, 4 * hidden, 1), random(rng, s, 2), nan(s), nan(s)},
                new int[] {0, 4, 5}, tol, t,
                (b, v) -> b.standardLstmCellForward(batch, hidden, v[0], v[1], v[2], v[3], v[0], v[4], v[5]));
        double[] gates = random(rng, g, 0.5);
        for (int i = 0; i < g; i++) {
            gates[i] += 0.5; // post-activation values in (0, 1); tanh's block may be anywhere in (-1, 1) too
        }
        // gates, c, cPrev, dh, dcNext, dPreact, dcPrev
        compare("standardLstmCellBackward", ref, got, new double[][] {gates, random(rng, s, 2), random(rng, s, 2),
                random(rng, s, 1), random(rng, s, 1), nan(g), nan(s)}, new int[] {5, 6}, tol,
                new double[][] {{tol}, {tol}},
                (b, v) -> b.standardLstmCellBackward(batch, hidden, v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
        compare("standardLstmCellBackward dc in place", ref, got, new double[][] {gates, random(rng, s, 2),
                random(rng, s, 2), random(rng, s, 1), random(rng, s, 1), nan(g)}, new int[] {5, 4}, tol,
                new double[][] {{tol}, {tol}},
                (b, v) -> b.standardLstmCellBackward(batch, hidden, v[0], v[1], v[2], v[3], v[4], v[5], v[4]));
    }

    static Stream<Arguments> sumShapes() {
        int[][] shapes = {{1, 1}, {1, 300}, {7, 3}, {256, 5}, {1000, 257}, {3, 4000}};
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int[] s : shapes) {
                out.add(Arguments.of(p, s[0], s[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} rows={1} cols={2}")
    @MethodSource("sumShapes")
    void sumRows(Precision p, int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(rows * 7919L + cols);
        double[] src = random(rng, rows * cols, 1);
        double[] dst = random(rng, cols, 1);
        double tol = 2 * (rows + 2) * u(p) * (rows + 1);
        for (boolean acc : new boolean[] {false, true}) {
            compare("sumRows accumulate=" + acc, reference(p), candidate(p, false), new double[][] {src, dst},
                    new int[] {1}, 0, new double[][] {{tol}}, (b, v) -> b.sumRows(rows, cols, v[0], v[1], acc));
        }
    }

    // ---- GEMM ----------------------------------------------------------------------------------------------------

    private static Stream<Arguments> gemmCases(boolean cublas) {
        int[][] shapes = {{1, 1, 1}, {1, 1, 0}, {5, 3, 7}, {17, 33, 5}, {64, 1, 129}, {1, 400, 16}, {100, 64, 257},
                {300, 200, 100}};
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    out.add(Arguments.of(p, cublas, s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0));
                }
            }
        }
        return out.stream();
    }

    static Stream<Arguments> builtinGemmCases() {
        return gemmCases(false);
    }

    static Stream<Arguments> cublasGemmCases() {
        return gemmCases(true);
    }

    /** Taller than one grid (65535 blocks of 16 rows): the built-in GEMM runs in bands of rows. */
    static Stream<Arguments> tallGemmCases() {
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (boolean tA : new boolean[] {false, true}) {
                out.add(Arguments.of(p, false, 1_100_003, 3, 2, tA, false));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} cublas={1} m={2} n={3} k={4} tA={5} tB={6}")
    @MethodSource("tallGemmCases")
    void tallGemm(Precision p, boolean cublas, int m, int n, int k, boolean tA, boolean tB) {
        gemm(p, cublas, m, n, k, tA, tB);
    }

    @ParameterizedTest(name = "{0} cublas={1} m={2} n={3} k={4} tA={5} tB={6}")
    @MethodSource("builtinGemmCases")
    void builtinGemm(Precision p, boolean cublas, int m, int n, int k, boolean tA, boolean tB) {
        gemm(p, cublas, m, n, k, tA, tB);
    }

    /** Tagged {@code cublas}: the device check leaves it out where cuBLAS cannot load (CUDA 13 has no libcublas.so.12). */
    @Tag("cublas")
    @ParameterizedTest(name = "{0} cublas={1} m={2} n={3} k={4} tA={5} tB={6}")
    @MethodSource("cublasGemmCases")
    void cublasGemm(Precision p, boolean cublas, int m, int n, int k, boolean tA, boolean tB) {
        Assumptions.assumeTrue(CudaProbe.get().gemm().cublas(),
                () -> "cuBLAS is not available: " + CudaProbe.get().gemm().why());
        gemm(p, cublas, m, n, k, tA, tB);
    }

    private void gemm(Precision p, boolean cublas, int m, int n, int k, boolean tA, boolean tB) {
        SplittableRandom rng = new SplittableRandom(m * 31L + n * 17L + k);
        Backend ref = reference(p);
        Backend got = candidate(p, cublas);
        int lda = (tA ? m : k) + 3; // padded leading dimensions
        int ldb = (tB ? k : n) + 2;
        int ldc = n + 1;
        int aRows = tA ? k : m;
        int bRows = tB ? n : k;
        double[] a = random(rng, Math.max(1, aRows * lda), 1);
        double[] b = random(rng, Math.max(1, bRows * ldb), 1);
        double[] c = random(rng, m * ldc, 1);
        double alpha = 0.75;
        // Per-element bound from the operands: 2 (k + 2) u (|alpha| sum_p |a_ip||b_pj| + |beta||c_ij|)
        for (double beta : new double[] {0, 1, -0.5}) {
            double[] atol = new double[m * ldc];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        double aiq = tA ? a[q * lda + i] : a[i * lda + q];
                        double bqj = tB ? b[j * ldb + q] : b[q * ldb + j];
                        s += Math.abs(aiq * bqj);
                    }
                    atol[i * ldc + j] = 2 * (k + 2) * u(p) * (Math.abs(alpha) * s + Math.abs(beta * c[i * ldc + j]));
                }
            }
            double[] cIn = beta == 0 ? nan(m * ldc) : c; // beta 0 must not read C, even NaN
            if (beta == 0) {
                for (int i = 0; i < m; i++) {
                    for (int j = n; j < ldc; j++) {
                        cIn[i * ldc + j] = c[i * ldc + j]; // padding must stay as it was
                    }
                }
            }
            final double be = beta;
            compare(String.format("gemm beta=%s", beta), ref, got, new double[][] {a, b, cIn}, new int[] {2}, 0,
                    new double[][] {atol},
                    (bk, v) -> bk.gemm(tA, tB, m, n, k, alpha, v[0], lda, v[1], ldb, be, v[2], ldc));
        }
    }
}

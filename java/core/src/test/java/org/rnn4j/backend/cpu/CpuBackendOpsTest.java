package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Precision;

/**
 * Op-level tests of both CPU backends ({@link CpuBackend64}, {@link CpuBackend32}) against the formulas documented on
 * {@link Backend}, written out here in plain double-precision Java as the reference. In the style of llm.c's
 * {@code dev/cuda}: random inputs from fixed seeds, awkward sizes (1, odd, large), a tolerance check
 * {@code |got - ref| <= atol + rtol * |ref|} per element, and a failure message listing the first mismatches.
 *
 * <p>The reference always reads its inputs back from the backend after upload, so in float32 it sees exactly the
 * floats the kernel saw and only the kernel's own arithmetic is measured.
 *
 * <p>Every op runs twice: on root buffers (offset 0, exact lengths, so an out-of-range index throws) and on views
 * sliced out of one big allocation at nonzero, odd offsets with NaN guard elements between them (so a read outside a
 * view shows up as NaN and a write outside it as a non-NaN guard).
 */
class CpuBackendOpsTest {

    // ---- tolerances --------------------------------------------------------------------------------------------

    private record Tol(double rtol, double atol) {
    }

    /** Unit roundoff of the backend's arithmetic: 2^-53 for float64, 2^-24 for float32. */
    private static double unitRoundoff(Precision p) {
        return p == Precision.FLOAT64 ? 0x1p-53 : 0x1p-24;
    }

    /*
     * Why these tolerances. float64: the kernels evaluate the very formulas of the reference in double, at most
     * reassociated, on O(1) values, so rtol 1e-12 / atol 1e-14 leave a wide margin. float32: with the inputs exact
     * floats, every elementwise result is a short chain of float roundings (u = 2^-24 ~ 6e-8 each; exp and tanh run
     * in double and are rounded once; the rounding of preact + bias, |x| <= 4 here, is amplified by at most |x| through
     * sigmoid/tanh). The longest chain, h = (g*i + sPrev*f) * o, gathers ~30 such relative errors on terms of magnitude
     * <= 2, i.e. <= ~2e-6 absolute even where g*i and sPrev*f cancel; so atol = 64u ~ 3.8e-6 and rtol = 16u ~ 9.5e-7,
     * while a wrong formula, index, gate order or offset is off by >= 1e-3. Sums (GEMM over k, sumRows over rows, the
     * loss sums) use the standard bound for recursive summation (Higham, Accuracy and Stability, sec. 3.1):
     * |error| <= gamma_n * sum|terms| with gamma_n ~ n*u; we take atol = 2*(n + 2)*u*max(sum|terms|) (the +2 for the
     * alpha product and the beta*C addition, the factor 2 for the reference's own double-precision error in
     * float64). For GEMM this is the familiar k * 2^-24 * max|a||b| scale, computed from the actual operands.
     */
    private static Tol elementwise(Precision p) {
        return p == Precision.FLOAT64 ? new Tol(1e-12, 1e-14) : new Tol(16 * 0x1p-24, 64 * 0x1p-24);
    }

    /** Tolerance for sums of {@code n} terms whose absolute values sum to at most {@code sumAbs}. */
    private static Tol summation(Precision p, int n, double sumAbs) {
        double u = unitRoundoff(p);
        return new Tol(p == Precision.FLOAT64 ? 1e-12 : 2 * u, 2.0 * (n + 2) * u * sumAbs);
    }

    /** A scalar argument as the backend applies it: rounded to float in float32 (documented on Backend). */
    private static double scalar(Precision p, double x) {
        return p == Precision.FLOAT64 ? x : (double) (float) x;
    }

    // ---- comparison ----------------------------------------------------------------------------------------------

    private static final int SHOW = 8;

    private static void assertClose(String what, double[] got, double[] ref, Tol tol) {
        assertClose(what, got, ref, tol, i -> "[" + i + "]");
    }

    /** Fails listing the first mismatches (index, got, ref) unless every element is within tolerance. */
    private static void assertClose(String what, double[] got, double[] ref, Tol tol, IntFunction<String> index) {
        assertEquals(ref.length, got.length, what + ": length");
        StringBuilder shown = new StringBuilder();
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double diff = Math.abs(got[i] - ref[i]);
            boolean ok = got[i] == ref[i] || (Double.isNaN(got[i]) && Double.isNaN(ref[i]))
                    || diff <= tol.atol() + tol.rtol() * Math.abs(ref[i]);
            if (!ok) {
                if (bad < SHOW) {
                    shown.append(String.format("%n  %s got %.17g ref %.17g |diff| %.3g", index.apply(i), got[i],
                            ref[i], diff));
                }
                bad++;
                worst = Double.isNaN(diff) ? Double.NaN : Math.max(worst, diff);
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements outside |got - ref| <= atol + rtol*|ref| (rtol %.3g, atol %.3g),"
                    + " worst |diff| %.3g; first %d:%s", what, bad, ref.length, tol.rtol(), tol.atol(), worst,
                    Math.min(bad, SHOW), shown));
        }
    }

    /** Bit-for-bit equality (all NaNs equal), listing the first mismatches. */
    private static void assertSameBits(String what, double[] got, double[] want) {
        assertEquals(want.length, got.length, what + ": length");
        StringBuilder shown = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < want.length; i++) {
            if (Double.doubleToLongBits(got[i]) != Double.doubleToLongBits(want[i])) {
                if (bad < SHOW) {
                    shown.append(String.format("%n  [%d] got %.17g want %.17g", i, got[i], want[i]));
                }
                bad++;
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements not bit-identical; first %d:%s", what, bad, want.length,
                    Math.min(bad, SHOW), shown));
        }
    }

    // ---- buffers ---------------------------------------------------------------------------------------------------

    /**
     * Hands out buffers: roots, or views at odd offsets inside shared chunks whose unused elements (guards between and
     * around the views) hold NaN and must still hold NaN at the end.
     */
    private static final class Mem {
        private static final int GUARD = 3;
        private static final int CHUNK = 1 << 15;

        private final Backend be;
        private final boolean views;
        private final List<Buffer> chunks = new ArrayList<>();
        private final List<List<int[]>> used = new ArrayList<>();
        private int next;

        Mem(Backend be, boolean views) {
            this.be = be;
            this.views = views;
        }

        Buffer take(int len) {
            if (!views) {
                return be.allocate(len);
            }
            if (chunks.isEmpty() || next + len + GUARD > chunks.get(chunks.size() - 1).length()) {
                int size = Math.max(CHUNK, len + 2 * GUARD);
                Buffer chunk = be.allocate(size);
                be.upload(filled(size, Double.NaN), chunk);
                chunks.add(chunk);
                used.add(new ArrayList<>());
                next = GUARD;
            }
            Buffer view = chunks.get(chunks.size() - 1).slice(next, len);
            assertTrue(view.offset() > 0 && !view.isRoot());
            used.get(used.size() - 1).add(new int[] {next, next + len});
            next += len + GUARD;
            return view;
        }

        /** A buffer holding {@code values} (rounded to the backend's precision). */
        Buffer of(double[] values) {
            Buffer b = take(values.length);
            be.upload(values, b);
            return b;
        }

        /** A buffer of NaNs, for outputs that must be written in full. */
        Buffer nan(int len) {
            return of(filled(len, Double.NaN));
        }

        void assertGuardsIntact() {
            for (int c = 0; c < chunks.size(); c++) {
                double[] all = be.download(chunks.get(c));
                boolean[] inView = new boolean[all.length];
                for (int[] r : used.get(c)) {
                    Arrays.fill(inView, r[0], r[1], true);
                }
                StringBuilder shown = new StringBuilder();
                int bad = 0;
                for (int i = 0; i < all.length; i++) {
                    if (!inView[i] && !Double.isNaN(all[i])) {
                        if (bad < SHOW) {
                            shown.append(String.format("%n  chunk %d [%d] = %.17g", c, i, all[i]));
                        }
                        bad++;
                    }
                }
                if (bad > 0) {
                    fail(bad + " elements outside every view were written; first:" + shown);
                }
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private static Backend backend(Precision p) {
        Backend be = new CpuBackendProvider().create(p);
        assertSame(p, be.precision());
        return be;
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    private static double[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rng.nextDouble(lo, hi);
        }
        return a;
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static String label(String op, Precision p, boolean views, String shape) {
        return op + " " + p + (views ? " views" : " roots") + " " + shape;
    }

    static Stream<Arguments> precisionsAndLayouts() {
        return Stream.of(Precision.values()).flatMap(p -> Stream.of(Arguments.of(p, false), Arguments.of(p, true)));
    }

    private static final int[] ELEMENTWISE_SIZES = {1, 3, 7, 17, 33, 1000, 1031};

    /** (batch, hidden) and (batch, outputs) shapes: ones, odd, and large. */
    private static final int[][] ROW_SHAPES = {{1, 1}, {1, 7}, {3, 1}, {3, 17}, {17, 3}, {64, 33}, {33, 64}};

    /** The documented gate order [i | f | g | o], spelled out here rather than taken from the code under test. */
    private static final int I = 0;
    private static final int F = 1;
    private static final int G = 2;
    private static final int O = 3;

    // ---- allocation, upload, download ------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Precision.class)
    void providerCreatesTheBackendOfEachPrecision(Precision p) {
        try (Backend be = backend(p)) {
            assertEquals(p == Precision.FLOAT64 ? CpuBackend64.class : CpuBackend32.class, be.getClass());
            assertEquals("cpu", be.name());
        }
        assertTrue(I == GateLayout.I && F == GateLayout.F && G == GateLayout.G && O == GateLayout.O
                && GateLayout.GATES == 4, "GateLayout must be [i | f | g | o]");
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void allocateGivesZeros(Precision p) {
        try (Backend be = backend(p)) {
            for (int n : new int[] {1, 3, 17, 1000, 4099}) {
                Buffer b = be.allocate(n);
                assertTrue(b.isRoot());
                assertEquals(n, b.length());
                assertSameBits("allocate(" + n + ")", be.download(b), new double[n]);
                assertSameBits("slice of allocate(" + n + ")", be.download(b.slice(n / 2, n - n / 2)),
                        new double[n - n / 2]);
            }
        }
    }

    /** What a value becomes in the backend's storage: itself in float64, rounded to float in float32. */
    private static double stored(Precision p, double x) {
        return p == Precision.FLOAT64 ? x : (double) (float) x;
    }

    private static double[] wideValues(SplittableRandom rng, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextDouble(-1, 1) * Math.scalb(1.0, rng.nextInt(-40, 40));
        }
        double[] specials = {0.0, -0.0, 0.1, 1.0 / 3, Math.PI, -1e-40, 1e-46, Double.MIN_VALUE, 16777217.0,
            Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e39};
        System.arraycopy(specials, 0, x, 0, Math.min(n, specials.length));
        return x;
    }

    private static double[] storedAll(Precision p, double[] x) {
        double[] s = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            s[i] = stored(p, x[i]);
        }
        return s;
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void uploadDownloadRoundTripWithOffsetsAndViews(Precision p) {
        SplittableRandom rng = new SplittableRandom(101);
        try (Backend be = backend(p)) {
            for (int n : new int[] {1, 7, 33, 1000}) {
                double[] x = wideValues(rng, n);
                double[] want = storedAll(p, x);
                String at = p + " n=" + n;

                Buffer b = be.allocate(n);
                double[] src = x.clone();
                be.upload(src, b);
                assertSameBits(at + " upload must not touch src", src, x);
                Arrays.fill(src, 42); // upload has already read src
                assertSameBits(at + " root", be.download(b), want);

                // srcOffset: the values sit at [5, 5 + n) of a longer host array.
                double[] padded = filled(n + 9, 7);
                System.arraycopy(x, 0, padded, 5, n);
                Buffer b2 = be.allocate(n);
                be.upload(padded, 5, b2);
                assertSameBits(at + " srcOffset", be.download(b2), want);

                // dstOffset: only dst[4, 4 + n) changes.
                double[] dst = filled(n + 10, -3);
                be.download(b2, dst, 4);
                double[] expectDst = filled(n + 10, -3);
                System.arraycopy(want, 0, expectDst, 4, n);
                assertSameBits(at + " dstOffset", dst, expectDst);

                // A view in the middle of a root: only its range changes.
                int lead = n + 3;
                Buffer root = be.allocate(3 * n + 11);
                double[] pattern = uniform(rng, root.length(), -1, 1);
                be.upload(pattern, root);
                double[] expectRoot = storedAll(p, pattern);
                Buffer view = root.slice(lead, n);
                assertEquals(lead, view.offset());
                be.upload(x, view);
                System.arraycopy(want, 0, expectRoot, lead, n);
                assertSameBits(at + " root around a view", be.download(root), expectRoot);
                assertSameBits(at + " view", be.download(view), want);

                // A view of a view, written from an offset in the host array and read into an offset.
                if (n > 5) {
                    Buffer inner = view.slice(2, n - 4);
                    assertEquals(lead + 2, inner.offset());
                    assertSameBits(at + " view of view", be.download(inner), Arrays.copyOfRange(want, 2, n - 2));
                    double[] y = wideValues(rng, n);
                    be.upload(y, 1, inner);
                    System.arraycopy(storedAll(p, y), 1, expectRoot, lead + 2, n - 4);
                    assertSameBits(at + " root around a view of a view", be.download(root), expectRoot);
                    double[] out = filled(n, 9);
                    be.download(inner, out, 3);
                    double[] expectOut = filled(n, 9);
                    System.arraycopy(expectRoot, lead + 2, expectOut, 3, n - 4);
                    assertSameBits(at + " view of view into dstOffset", out, expectOut);
                }
            }
        }
    }

    @Test
    void float32UploadRoundsToFloatAndDownloadWidensExactly() {
        SplittableRandom rng = new SplittableRandom(7);
        double[] x = wideValues(rng, 1000);
        double[] more = {0.5 + 0x1p-25, 0.5 + 0x1p-25 + 0x1p-60, -Double.MIN_VALUE, Float.MAX_VALUE * 1.0000001,
            Float.MIN_VALUE / 2, Float.MIN_VALUE * 0.75, 1 + 0x1p-24, 1 + 0x1p-23};
        x = Stream.of(x, more).flatMapToDouble(Arrays::stream).toArray();
        try (Backend be = backend(Precision.FLOAT32)) {
            Buffer b = be.allocate(x.length);
            be.upload(x, b);
            double[] got = be.download(b);
            double[] want = new double[x.length];
            int changed = 0;
            for (int i = 0; i < x.length; i++) {
                want[i] = (double) (float) x[i];
                changed += Double.compare(want[i], x[i]) != 0 ? 1 : 0;
            }
            assertTrue(changed > 900, "the test values should mostly not be floats already");
            assertSameBits("float32 upload/download", got, want);
        }
        try (Backend be = backend(Precision.FLOAT64)) {
            Buffer b = be.allocate(x.length);
            be.upload(x, b);
            assertSameBits("float64 upload/download", be.download(b), x);
        }
    }

    // ---- gemm ------------------------------------------------------------------------------------------------------

    /** (m, n, k): ones, odd, k == 0, and large. */
    private static final int[][] GEMM_SHAPES = {
        {1, 1, 1}, {1, 1, 17}, {1, 7, 3}, {7, 1, 33}, {17, 33, 1}, {3, 5, 7}, {5, 3, 0}, {1, 1, 0},
        {64, 33, 17}, {130, 127, 129},
    };

    static Stream<Arguments> gemmCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (double alpha : new double[] {1, 0.5, -2}) {
                        for (double beta : new double[] {0, 1, 0.25}) {
                            cases.add(Arguments.of(p, transA, transB, alpha, beta));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    /** A stored (rows, cols) matrix with leading dimension ld: its elements from fill, the gaps between rows gap. */
    private static double[] stored(SplittableRandom rng, int rows, int cols, int ld, double lo, double hi,
                                   double gap) {
        int len = rows == 0 || cols == 0 ? 1 : (rows - 1) * ld + cols;
        double[] a = filled(len, gap);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                a[r * ld + c] = rng.nextDouble(lo, hi);
            }
        }
        return a;
    }

    /**
     * The reference: C = alpha * op(A) * op(B) + beta * C on the (m, n) submatrix of c (beta == 0 does not read C),
     * in double, summing over p in ascending order. Returns the whole new c, and in bound[0] the largest
     * |alpha| * sum_p |op(A)(i,p) * op(B)(p,j)| + |beta * C(i,j)|, the scale of its rounding error.
     */
    private static double[] gemmRef(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] a,
                                    int lda, double[] b, int ldb, double beta, double[] c, int ldc, double[] bound) {
        double[] out = c.clone();
        bound[0] = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double sumAbs = 0;
                for (int p = 0; p < k; p++) {
                    double aip = transA ? a[p * lda + i] : a[i * lda + p];
                    double bpj = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += aip * bpj;
                    sumAbs += Math.abs(aip * bpj);
                }
                double old = c[i * ldc + j];
                out[i * ldc + j] = beta == 0 ? alpha * sum : alpha * sum + beta * old;
                bound[0] = Math.max(bound[0], Math.abs(alpha) * sumAbs + (beta == 0 ? 0 : Math.abs(beta * old)));
            }
        }
        return out;
    }

    /**
     * Runs one gemm on buffers from mem with leading dimensions padded by pad (0: tight) and checks C's submatrix
     * against the reference, the gaps of C (and A, B entirely) untouched. The gaps of A and B hold NaN so that reading
     * one shows; C's submatrix starts as NaN when beta == 0, which must then not be read.
     */
    private static void checkGemm(Backend be, Mem mem, SplittableRandom rng, String what, boolean transA,
                                  boolean transB, int m, int n, int k, double alpha, double beta, int pad) {
        Precision p = be.precision();
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        int lda = Math.max(1, aCols) + pad;
        int ldb = Math.max(1, bCols) + (pad == 0 ? 0 : pad + 2);
        int ldc = n + (pad == 0 ? 0 : pad + 5);
        String at = String.format("%s m=%d n=%d k=%d transA=%b transB=%b alpha=%s beta=%s lda=%d ldb=%d ldc=%d",
                what, m, n, k, transA, transB, alpha, beta, lda, ldb, ldc);

        Buffer a = mem.of(stored(rng, aRows, aCols, lda, -1, 1, Double.NaN));
        Buffer b = mem.of(stored(rng, bRows, bCols, ldb, -1, 1, Double.NaN));
        double[] cHost = stored(rng, m, n, ldc, -1, 1, 0);
        for (int i = 0; i < cHost.length; i++) {
            boolean inSub = i % ldc < n;
            cHost[i] = inSub ? (beta == 0 ? Double.NaN : cHost[i]) : rng.nextDouble(100, 200);
        }
        Buffer c = mem.of(cHost);
        double[] aD = be.download(a);
        double[] bD = be.download(b);
        double[] cD = be.download(c);

        be.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

        double[] bound = new double[1];
        double[] ref = gemmRef(transA, transB, m, n, k, scalar(p, alpha), aD, lda, bD, ldb, scalar(p, beta), cD, ldc,
                bound);
        double[] got = be.download(c);
        double[] gotSub = new double[m * n];
        double[] refSub = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                gotSub[i * n + j] = got[i * ldc + j];
                refSub[i * n + j] = ref[i * ldc + j];
                got[i * ldc + j] = cD[i * ldc + j]; // leaves got == cD exactly when the gaps are untouched
            }
        }
        assertClose(at + ": C", gotSub, refSub, summation(p, k, bound[0]), i -> "C(" + i / n + "," + i % n + ")");
        assertSameBits(at + ": C outside the (m, n) submatrix", got, cD);
        assertSameBits(at + ": A", be.download(a), aD);
        assertSameBits(at + ": B", be.download(b), bD);
    }

    @ParameterizedTest(name = "{0} transA={1} transB={2} alpha={3} beta={4}")
    @MethodSource("gemmCases")
    void gemm(Precision p, boolean transA, boolean transB, double alpha, double beta) {
        SplittableRandom rng = new SplittableRandom(1000 + (transA ? 1 : 0) + (transB ? 2 : 0));
        for (boolean views : new boolean[] {false, true}) {
            try (Backend be = backend(p)) {
                Mem mem = new Mem(be, views);
                for (int pad : new int[] {0, 3}) {
                    for (int[] s : GEMM_SHAPES) {
                        checkGemm(be, mem, rng, label("gemm", p, views, ""), transA, transB, s[0], s[1], s[2],
                                alpha, beta, pad);
                    }
                }
                mem.assertGuardsIntact();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void gemmBetaZeroDoesNotReadC(Precision p) {
        SplittableRandom rng = new SplittableRandom(5);
        try (Backend be = backend(p)) {
            int m = 7;
            int n = 5;
            int k = 3;
            Buffer a = be.allocate(m * k);
            Buffer b = be.allocate(k * n);
            be.upload(uniform(rng, m * k, -1, 1), a);
            be.upload(uniform(rng, k * n, -1, 1), b);
            double[] junk = new double[m * n];
            for (int i = 0; i < junk.length; i++) {
                junk[i] = new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}[i % 3];
            }
            for (double alpha : new double[] {1, -2, 0}) {
                Buffer c = be.allocate(m * n);
                be.upload(junk, c);
                be.gemm(false, false, m, n, k, alpha, a, k, b, n, 0.0, c, n);
                double[] got = be.download(c);
                double[] bound = new double[1];
                double[] ref = gemmRef(false, false, m, n, k, alpha, be.download(a), k, be.download(b), n, 0.0,
                        new double[m * n], n, bound);
                for (double v : got) {
                    assertTrue(Double.isFinite(v), p + " alpha=" + alpha + ": beta == 0 read the NaN/Inf in C: "
                            + Arrays.toString(got));
                }
                assertClose(p + " gemm beta=0 alpha=" + alpha, got, ref, summation(p, k, bound[0]));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void gemmWithZeroKScalesC(Precision p) {
        SplittableRandom rng = new SplittableRandom(6);
        try (Backend be = backend(p)) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (double beta : new double[] {0, 1, 0.25, -3}) {
                        int m = 5;
                        int n = 3;
                        int ldc = 4;
                        // A is (m, 0) or (0, m), B (0, n) or (n, 0): nothing to read; NaN would show if read.
                        Buffer a = be.allocate(1);
                        Buffer b = be.allocate(1);
                        be.upload(new double[] {Double.NaN}, a);
                        be.upload(new double[] {Double.NaN}, b);
                        double[] cHost = uniform(rng, (m - 1) * ldc + n, -1, 1);
                        if (beta == 0) {
                            for (int i = 0; i < cHost.length; i++) {
                                cHost[i] = i % ldc < n ? Double.NaN : cHost[i];
                            }
                        }
                        Buffer c = be.allocate(cHost.length);
                        be.upload(cHost, c);
                        double[] cD = be.download(c);
                        be.gemm(transA, transB, m, n, 0, 2.0, a, transA ? m : 1, b, transB ? 1 : n, beta, c, ldc);
                        double[] want = cD.clone();
                        for (int i = 0; i < want.length; i++) {
                            if (i % ldc < n) {
                                want[i] = beta == 0 ? 0 : beta * cD[i];
                            }
                        }
                        // beta * C is one rounding in either precision (-3 * C need not be a float).
                        assertClose(p + " gemm k=0 transA=" + transA + " transB=" + transB + " beta=" + beta,
                                be.download(c), want, new Tol(unitRoundoff(p), 0));
                    }
                }
            }
        }
    }

    /** A, B and C are submatrices in the middle of bigger matrices; nothing else of the big C may change. */
    @ParameterizedTest
    @EnumSource(Precision.class)
    void gemmOnSubmatrixViews(Precision p) {
        SplittableRandom rng = new SplittableRandom(8);
        try (Backend be = backend(p)) {
            int rows = 41;
            int cols = 37;
            int m = 17;
            int n = 13;
            int k = 19;
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    Buffer bigA = be.allocate(rows * cols);
                    Buffer bigB = be.allocate(rows * cols);
                    Buffer bigC = be.allocate(rows * cols);
                    be.upload(uniform(rng, rows * cols, -1, 1), bigA);
                    be.upload(uniform(rng, rows * cols, -1, 1), bigB);
                    be.upload(uniform(rng, rows * cols, -1, 1), bigC);
                    double[] bigAD = be.download(bigA);
                    double[] bigBD = be.download(bigB);
                    double[] bigCD = be.download(bigC);
                    int aRows = transA ? k : m;
                    int aCols = transA ? m : k;
                    int bRows = transB ? n : k;
                    int bCols = transB ? k : n;
                    // Submatrix (r0, c0) of a big (rows, cols) matrix: a view from r0 * cols + c0, leading dim cols.
                    int aStart = 3 * cols + 5;
                    int bStart = 7 * cols + 2;
                    int cStart = 11 * cols + 9;
                    Buffer a = bigA.slice(aStart, (aRows - 1) * cols + aCols);
                    Buffer b = bigB.slice(bStart, (bRows - 1) * cols + bCols);
                    Buffer c = bigC.slice(cStart, (m - 1) * cols + n);
                    be.gemm(transA, transB, m, n, k, -0.5, a, cols, b, cols, 0.25, c, cols);

                    double[] bound = new double[1];
                    double[] ref = gemmRef(transA, transB, m, n, k, -0.5,
                            Arrays.copyOfRange(bigAD, aStart, bigAD.length), cols,
                            Arrays.copyOfRange(bigBD, bStart, bigBD.length), cols, 0.25,
                            Arrays.copyOfRange(bigCD, cStart, bigCD.length), cols, bound);
                    double[] want = bigCD.clone();
                    System.arraycopy(ref, 0, want, cStart, ref.length);
                    double[] got = be.download(bigC);
                    String at = p + " gemm on submatrix views transA=" + transA + " transB=" + transB;
                    assertClose(at + ": big C", got, want, summation(p, k, bound[0]),
                            i -> "bigC(" + i / cols + "," + i % cols + ")");
                    for (int i = 0; i < got.length; i++) {
                        int r = i / cols - cStart / cols;
                        int col = i % cols - cStart % cols;
                        if (r < 0 || r >= m || col < 0 || col >= n) {
                            assertEquals(Double.doubleToLongBits(bigCD[i]), Double.doubleToLongBits(got[i]),
                                    at + ": bigC(" + i / cols + "," + i % cols + ") lies outside C but changed");
                        }
                    }
                    assertSameBits(at + ": big A", be.download(bigA), bigAD);
                    assertSameBits(at + ": big B", be.download(bigB), bigBD);
                }
            }
        }
    }

    // ---- copyMatrix --------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void copyMatrix(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(9);
        int[][] shapes = {{1, 1}, {1, 33}, {7, 1}, {3, 7}, {64, 33}, {130, 17}};
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int[] shape : shapes) {
                for (int pad : new int[] {0, 5}) {
                    int rows = shape[0];
                    int cols = shape[1];
                    int ldSrc = cols + pad;
                    int ldDst = cols + (pad == 0 ? 0 : 2 * pad + 1);
                    String at = label("copyMatrix", p, views,
                            "rows=" + rows + " cols=" + cols + " ldSrc=" + ldSrc + " ldDst=" + ldDst);
                    Buffer src = mem.of(stored(rng, rows, cols, ldSrc, -1, 1, Double.NaN));
                    Buffer dst = mem.of(stored(rng, rows, cols, ldDst, 10, 20, 0));
                    double[] sv = be.download(src);
                    double[] dv = be.download(dst);
                    // The gaps of dst get their own values, which must survive.
                    double[] gapsHost = dv.clone();
                    for (int i = 0; i < gapsHost.length; i++) {
                        if (i % ldDst >= cols) {
                            gapsHost[i] = rng.nextDouble(-5, -4);
                        }
                    }
                    be.upload(gapsHost, dst);
                    dv = be.download(dst);
                    double[] want = dv.clone();
                    for (int r = 0; r < rows; r++) {
                        for (int c = 0; c < cols; c++) {
                            want[r * ldDst + c] = sv[r * ldSrc + c];
                        }
                    }
                    be.copyMatrix(rows, cols, src, ldSrc, dst, ldDst);
                    assertSameBits(at + ": dst", be.download(dst), want);
                    assertSameBits(at + ": src unchanged", be.download(src), sv);
                }
            }
            // The seed LSTM's use: h (B, H) placed beside x in the concatenated (B, X + H) input [x, h].
            int batch = 17;
            int x = 3;
            int hidden = 33;
            Buffer h = mem.of(uniform(rng, batch * hidden, -1, 1));
            double[] xhHost = uniform(rng, batch * (x + hidden), 2, 3);
            Buffer xh = mem.of(xhHost);
            double[] want = be.download(xh);
            double[] hv = be.download(h);
            for (int r = 0; r < batch; r++) {
                System.arraycopy(hv, r * hidden, want, r * (x + hidden) + x, hidden);
            }
            be.copyMatrix(batch, hidden, h, hidden, xh.slice(x, xh.length() - x), x + hidden);
            assertSameBits(label("copyMatrix", p, views, "h into [x, h]"), be.download(xh), want);
            mem.assertGuardsIntact();
        }
    }

    // ---- sigmoid ---------------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void sigmoidForward(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(11);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int n : ELEMENTWISE_SIZES) {
                String at = label("sigmoidForward", p, views, "n=" + n);
                double[] xh = uniform(rng, n, -8, 8);
                double[] specials = {0.0, -0.0, 30, -30, 800, -800, 1e-9, -17.5};
                if (n >= 17) {
                    System.arraycopy(specials, 0, xh, 3, specials.length);
                }
                Buffer x = mem.of(xh);
                Buffer y = mem.nan(n);
                double[] xd = be.download(x);
                double[] ref = new double[n];
                for (int i = 0; i < n; i++) {
                    ref[i] = sigmoid(xd[i]);
                }
                be.sigmoidForward(x, y);
                assertClose(at + ": y", be.download(y), ref, elementwise(p));
                assertSameBits(at + ": x unchanged", be.download(x), xd);

                Buffer z = mem.of(xh);
                be.sigmoidForward(z, z);
                assertClose(at + " in place (y == x)", be.download(z), ref, elementwise(p));

                Buffer w = mem.of(xh);
                be.sigmoidForward(w.slice(0, n), w); // another view object of the same range is in place too
                assertClose(at + " in place (y a view of x's range)", be.download(w), ref, elementwise(p));
            }
            mem.assertGuardsIntact();
        }
    }

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void sigmoidBackward(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(12);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int n : ELEMENTWISE_SIZES) {
                String at = label("sigmoidBackward", p, views, "n=" + n);
                double[] dyh = uniform(rng, n, -2, 2);
                double[] yh = uniform(rng, n, 0, 1);
                yh[0] = n > 1 ? 1.0 : yh[0];
                Buffer dy = mem.of(dyh);
                Buffer y = mem.of(yh);
                Buffer dx = mem.nan(n);
                double[] dyd = be.download(dy);
                double[] yd = be.download(y);
                double[] ref = new double[n];
                for (int i = 0; i < n; i++) {
                    ref[i] = dyd[i] * yd[i] * (1 - yd[i]);
                }
                be.sigmoidBackward(dy, y, dx);
                assertClose(at + ": dx", be.download(dx), ref, elementwise(p));
                assertSameBits(at + ": dy unchanged", be.download(dy), dyd);
                assertSameBits(at + ": y unchanged", be.download(y), yd);

                Buffer d = mem.of(dyh);
                be.sigmoidBackward(d, y, d);
                assertClose(at + " in place (dx == dy)", be.download(d), ref, elementwise(p));
                assertSameBits(at + " in place: y unchanged", be.download(y), yd);
            }
            mem.assertGuardsIntact();
        }
    }

    // ---- seed LSTM cell --------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void seedLstmCellForward(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(21);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int[] shape : ROW_SHAPES) {
                int batch = shape[0];
                int hidden = shape[1];
                int h4 = 4 * hidden;
                String at = label("seedLstmCellForward", p, views, "batch=" + batch + " hidden=" + hidden);
                double[] preH = uniform(rng, batch * h4, -2, 2);
                Buffer preact = mem.of(preH);
                Buffer bias = mem.of(uniform(rng, h4, -2, 2));
                Buffer sPrev = mem.of(uniform(rng, batch * hidden, -1, 1));
                Buffer gates = mem.nan(batch * h4);
                Buffer s = mem.nan(batch * hidden);
                Buffer h = mem.nan(batch * hidden);
                double[] z = be.download(preact);
                double[] bv = be.download(bias);
                double[] sp = be.download(sPrev);

                double[] refGates = new double[batch * h4];
                double[] refS = new double[batch * hidden];
                double[] refH = new double[batch * hidden];
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < hidden; j++) {
                        double gi = sigmoid(z[r * h4 + I * hidden + j] + bv[I * hidden + j]);
                        double gf = sigmoid(z[r * h4 + F * hidden + j] + bv[F * hidden + j]);
                        double gg = Math.tanh(z[r * h4 + G * hidden + j] + bv[G * hidden + j]);
                        double go = sigmoid(z[r * h4 + O * hidden + j] + bv[O * hidden + j]);
                        refGates[r * h4 + I * hidden + j] = gi;
                        refGates[r * h4 + F * hidden + j] = gf;
                        refGates[r * h4 + G * hidden + j] = gg;
                        refGates[r * h4 + O * hidden + j] = go;
                        refS[r * hidden + j] = gg * gi + sp[r * hidden + j] * gf;
                        refH[r * hidden + j] = refS[r * hidden + j] * go;
                    }
                }
                IntFunction<String> gateIndex = i -> String.format("[%d] (b=%d, gate %s, unit %d)", i, i / h4,
                        "ifgo".charAt(i % h4 / hidden), i % hidden);

                be.seedLstmCellForward(batch, hidden, preact, bias, sPrev, gates, s, h);
                assertClose(at + ": gates", be.download(gates), refGates, elementwise(p), gateIndex);
                assertClose(at + ": s", be.download(s), refS, elementwise(p));
                assertClose(at + ": h", be.download(h), refH, elementwise(p));
                assertSameBits(at + ": preact unchanged", be.download(preact), z);
                assertSameBits(at + ": bias unchanged", be.download(bias), bv);
                assertSameBits(at + ": sPrev unchanged", be.download(sPrev), sp);

                Buffer both = mem.of(preH);
                Buffer s2 = mem.nan(batch * hidden);
                Buffer h2 = mem.nan(batch * hidden);
                be.seedLstmCellForward(batch, hidden, both, bias, sPrev, both, s2, h2);
                assertClose(at + " in place (gates == preact): gates", be.download(both), refGates, elementwise(p),
                        gateIndex);
                assertClose(at + " in place: s", be.download(s2), refS, elementwise(p));
                assertClose(at + " in place: h", be.download(h2), refH, elementwise(p));
            }
            mem.assertGuardsIntact();
        }
    }

    /** Post-activation gates as the forward makes them: i, f, o in (0, 1), g in (-1, 1). */
    private static double[] randomGates(SplittableRandom rng, int batch, int hidden) {
        double[] g = new double[batch * 4 * hidden];
        for (int i = 0; i < g.length; i++) {
            boolean tanhGate = i % (4 * hidden) / hidden == G;
            g[i] = tanhGate ? rng.nextDouble(-1, 1) : rng.nextDouble(0, 1);
        }
        return g;
    }

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void seedLstmCellBackward(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(22);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int[] shape : ROW_SHAPES) {
                int batch = shape[0];
                int hidden = shape[1];
                int h4 = 4 * hidden;
                int len = batch * hidden;
                String at = label("seedLstmCellBackward", p, views, "batch=" + batch + " hidden=" + hidden);
                Buffer gates = mem.of(randomGates(rng, batch, hidden));
                Buffer s = mem.of(uniform(rng, len, -2, 2));
                Buffer sPrev = mem.of(uniform(rng, len, -2, 2));
                Buffer dh = mem.of(uniform(rng, len, -2, 2));
                double[] dsNextH = uniform(rng, len, -2, 2);
                Buffer dsNext = mem.of(dsNextH);
                Buffer dPreact = mem.nan(batch * h4);
                Buffer dsPrev = mem.nan(len);
                double[] gv = be.download(gates);
                double[] sv = be.download(s);
                double[] spv = be.download(sPrev);
                double[] dhv = be.download(dh);
                double[] dsnv = be.download(dsNext);

                double[] refDz = new double[batch * h4];
                double[] refDsPrev = new double[len];
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < hidden; j++) {
                        double i = gv[r * h4 + I * hidden + j];
                        double f = gv[r * h4 + F * hidden + j];
                        double g = gv[r * h4 + G * hidden + j];
                        double o = gv[r * h4 + O * hidden + j];
                        int x = r * hidden + j;
                        double ds = o * dhv[x] + dsnv[x];
                        refDz[r * h4 + I * hidden + j] = (1 - i) * i * (g * ds);
                        refDz[r * h4 + F * hidden + j] = (1 - f) * f * (spv[x] * ds);
                        refDz[r * h4 + G * hidden + j] = (1 - g * g) * (i * ds);
                        refDz[r * h4 + O * hidden + j] = (1 - o) * o * (sv[x] * dhv[x]);
                        refDsPrev[x] = ds * f;
                    }
                }
                IntFunction<String> gateIndex = i -> String.format("[%d] (b=%d, gate %s, unit %d)", i, i / h4,
                        "ifgo".charAt(i % h4 / hidden), i % hidden);

                be.seedLstmCellBackward(batch, hidden, gates, s, sPrev, dh, dsNext, dPreact, dsPrev);
                assertClose(at + ": dPreact", be.download(dPreact), refDz, elementwise(p), gateIndex);
                assertClose(at + ": dsPrev", be.download(dsPrev), refDsPrev, elementwise(p));
                assertSameBits(at + ": gates unchanged", be.download(gates), gv);
                assertSameBits(at + ": s unchanged", be.download(s), sv);
                assertSameBits(at + ": sPrev unchanged", be.download(sPrev), spv);
                assertSameBits(at + ": dh unchanged", be.download(dh), dhv);
                assertSameBits(at + ": dsNext unchanged", be.download(dsNext), dsnv);

                Buffer carried = mem.of(dsNextH);
                Buffer dPreact2 = mem.of(uniform(rng, batch * h4, 50, 60)); // written, not accumulated
                be.seedLstmCellBackward(batch, hidden, gates, s, sPrev, dh, carried, dPreact2, carried);
                assertClose(at + " in place (dsPrev == dsNext): dsPrev", be.download(carried), refDsPrev,
                        elementwise(p));
                assertClose(at + " in place: dPreact", be.download(dPreact2), refDz, elementwise(p), gateIndex);
            }
            mem.assertGuardsIntact();
        }
    }

    static Stream<Arguments> precisionsLayoutsAccumulate() {
        return precisionsAndLayouts().flatMap(a -> Stream.of(
                Arguments.of(a.get()[0], a.get()[1], false), Arguments.of(a.get()[0], a.get()[1], true)));
    }

    // ---- sumRows, sgdUpdate ----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} views={1} accumulate={2}")
    @MethodSource("precisionsLayoutsAccumulate")
    void sumRows(Precision p, boolean views, boolean accumulate) {
        SplittableRandom rng = new SplittableRandom(51 + (accumulate ? 1 : 0));
        int[][] shapes = {{1, 1}, {1, 33}, {7, 1}, {3, 7}, {64, 33}, {130, 17}, {1000, 3}};
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int[] shape : shapes) {
                int rows = shape[0];
                int cols = shape[1];
                String at = label("sumRows", p, views, "rows=" + rows + " cols=" + cols + " accumulate=" + accumulate);
                Buffer src = mem.of(uniform(rng, rows * cols, -1, 1));
                Buffer dst = accumulate ? mem.of(uniform(rng, cols, -1, 1)) : mem.nan(cols);
                double[] sv = be.download(src);
                double[] dv = be.download(dst);
                double[] ref = new double[cols];
                double worst = 0;
                for (int j = 0; j < cols; j++) {
                    double sum = accumulate ? dv[j] : 0;
                    double sumAbs = accumulate ? Math.abs(dv[j]) : 0;
                    for (int r = 0; r < rows; r++) {
                        sum += sv[r * cols + j];
                        sumAbs += Math.abs(sv[r * cols + j]);
                    }
                    ref[j] = sum;
                    worst = Math.max(worst, sumAbs);
                }
                be.sumRows(rows, cols, src, dst, accumulate);
                assertClose(at + ": dst", be.download(dst), ref, summation(p, rows + 1, worst));
                assertSameBits(at + ": src unchanged", be.download(src), sv);
            }
            mem.assertGuardsIntact();
        }
    }

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void sgdUpdate(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(61);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int n : ELEMENTWISE_SIZES) {
                for (double lr : new double[] {0.1, 1e-3, 0.7, 0.0, -0.25}) {
                    String at = label("sgdUpdate", p, views, "n=" + n + " lr=" + lr);
                    Buffer params = mem.of(uniform(rng, n, -1, 1));
                    Buffer grads = mem.of(uniform(rng, n, -1, 1));
                    double[] pv = be.download(params);
                    double[] gv = be.download(grads);
                    double lrP = scalar(p, lr);
                    double[] ref = new double[n];
                    for (int i = 0; i < n; i++) {
                        ref[i] = pv[i] - lrP * gv[i];
                    }
                    be.sgdUpdate(params, grads, lr);
                    assertClose(at + ": params", be.download(params), ref, lr == 0 ? new Tol(0, 0) : elementwise(p));
                    assertSameBits(at + ": grads unchanged", be.download(grads), gv);
                }
            }
            mem.assertGuardsIntact();
        }
    }

    // ---- self-checks of the harness --------------------------------------------------------------------------------

    @Test
    void comparisonReportsFirstMismatches() {
        double[] ref = {1, 2, 3, 4};
        double[] got = {1, 2.5, Double.NaN, 4 + 1e-13};
        AssertionError e = assertThrows(AssertionError.class,
                () -> assertClose("probe", got, ref, new Tol(1e-12, 1e-14)));
        String msg = e.getMessage();
        assertTrue(msg.contains("2 of 4") && msg.contains("[1] got 2.5") && msg.contains("[2] got NaN"), msg);
        assertFalse(msg.contains("[3]"), msg);
        assertClose("probe", got.clone(), got.clone(), new Tol(0, 0)); // NaN matches NaN only where the ref has NaN
    }
}

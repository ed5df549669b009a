package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fast route of {@link CpuGemm} (OpenBLAS, {@link OpenBlasGemm}) against the Java GEMM, on awkward shapes and
 * layouts in both precisions: transposes, padded leading dimensions (bulk and row-by-row copies), offsets, alpha and
 * beta, C not read when beta is 0, nothing outside C written; and the choice of route by size and by
 * {@code RNN4J_CPU_GEMM}.
 */
class FastGemmTest {

    private static final double SENTINEL = -12345.678;

    @BeforeAll
    static void openBlasLoads() {
        // The project's natives are linux-x86_64 ones, what CI and this build run on: there OpenBLAS must load.
        if (System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")) {
            assertNull(OpenBlasGemm.problem(), "OpenBLAS must load on linux-x86_64");
        }
    }

    private static boolean available() {
        return OpenBlasGemm.problem() == null;
    }

    /** Skips (visibly, with the reason) where OpenBLAS cannot load: a platform without its natives. */
    private static void assumeAvailable() {
        org.junit.jupiter.api.Assumptions.assumeTrue(available(), () -> "OpenBLAS cannot load here: "
                + OpenBlasGemm.problem());
    }

    /** {m, n, k, pad}: ones, primes, a row or column alone, the LSTM step, wide padding (row-by-row copies). */
    private static final int[][] SHAPES = {
        {1, 1, 1, 0}, {1, 7, 3, 2}, {7, 1, 5, 1}, {13, 17, 19, 0}, {31, 37, 41, 3}, {64, 65, 63, 1},
        {97, 255, 2, 0}, {5, 3, 300, 400}, {64, 1024, 256, 0}, {129, 131, 127, 5},
    };

    private record Layout(boolean transA, boolean transB, int m, int n, int k, int pad, int off) {
        int lda() {
            return (transA ? m : k) + pad;
        }

        int ldb() {
            return (transB ? k : n) + pad;
        }

        int ldc() {
            return n + pad;
        }

        int aLen() {
            return off + (transA ? k : m) * lda() + 3;
        }

        int bLen() {
            return off + (transB ? n : k) * ldb() + 3;
        }

        int cLen() {
            return off + m * ldc() + 3;
        }

        boolean inC(int idx) {
            int rel = idx - off;
            return rel >= 0 && rel < m * ldc() && rel % ldc() < n;
        }
    }

    private static void check64(Layout l, double alpha, double beta, CpuGemm fast, CpuGemm java, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] a = new double[l.aLen()];
        double[] b = new double[l.bLen()];
        double[] absA = new double[a.length];
        double[] absB = new double[b.length];
        double[] c0 = new double[l.cLen()];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextGaussian();
            absA[i] = Math.abs(a[i]);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextGaussian();
            absB[i] = Math.abs(b[i]);
        }
        for (int i = 0; i < c0.length; i++) {
            c0[i] = !l.inC(i) ? SENTINEL : beta == 0 ? Double.NaN : rnd.nextGaussian();
        }
        double[] expected = c0.clone();
        java.gemm(l.transA, l.transB, l.m, l.n, l.k, alpha, a, l.off, l.lda(), b, l.off, l.ldb(), beta, expected,
                l.off, l.ldc());
        // The bound: a few ulps of sum |alpha a_ip b_pj| + |beta c|, per element.
        double[] scale = new double[l.cLen()];
        java.gemm(l.transA, l.transB, l.m, l.n, l.k, Math.abs(alpha), absA, l.off, l.lda(), absB, l.off, l.ldb(), 0,
                scale, l.off, l.ldc());
        double[] actual = c0.clone();
        long before = fast.fastCalls();
        fast.gemm(l.transA, l.transB, l.m, l.n, l.k, alpha, a, l.off, l.lda(), b, l.off, l.ldb(), beta, actual,
                l.off, l.ldc());
        assertEquals(before + 1, fast.fastCalls(), "the product did not take OpenBLAS: " + l);
        for (int i = 0; i < actual.length; i++) {
            if (!l.inC(i)) {
                assertEquals(SENTINEL, actual[i], "written outside C at " + i + ": " + l);
                continue;
            }
            double tol = 1e-14 * (scale[i] + Math.abs(beta * (beta == 0 ? 0 : c0[i]))) + 1e-300;
            if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
                fail("float64 " + l + " alpha=" + alpha + " beta=" + beta + ": element " + i + " is " + actual[i]
                        + ", the Java GEMM gives " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }

    private static void check32(Layout l, float alpha, float beta, CpuGemm fast, CpuGemm java, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[l.aLen()];
        float[] b = new float[l.bLen()];
        float[] absA = new float[a.length];
        float[] absB = new float[b.length];
        float[] c0 = new float[l.cLen()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextGaussian();
            absA[i] = Math.abs(a[i]);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextGaussian();
            absB[i] = Math.abs(b[i]);
        }
        for (int i = 0; i < c0.length; i++) {
            c0[i] = !l.inC(i) ? (float) SENTINEL : beta == 0 ? Float.NaN : (float) rnd.nextGaussian();
        }
        float[] expected = c0.clone();
        java.gemm(l.transA, l.transB, l.m, l.n, l.k, alpha, a, l.off, l.lda(), b, l.off, l.ldb(), beta, expected,
                l.off, l.ldc());
        float[] scale = new float[l.cLen()];
        java.gemm(l.transA, l.transB, l.m, l.n, l.k, Math.abs(alpha), absA, l.off, l.lda(), absB, l.off, l.ldb(), 0f,
                scale, l.off, l.ldc());
        float[] actual = c0.clone();
        long before = fast.fastCalls();
        fast.gemm(l.transA, l.transB, l.m, l.n, l.k, alpha, a, l.off, l.lda(), b, l.off, l.ldb(), beta, actual,
                l.off, l.ldc());
        assertEquals(before + 1, fast.fastCalls(), "the product did not take OpenBLAS: " + l);
        for (int i = 0; i < actual.length; i++) {
            if (!l.inC(i)) {
                assertEquals((float) SENTINEL, actual[i], "written outside C at " + i + ": " + l);
                continue;
            }
            // float32: both sums round at each step, k terms, so a bound of k ulps of the magnitude sum.
            double tol = 4e-7 * (l.k + 2) * (scale[i] + Math.abs(beta == 0 ? 0 : beta * c0[i])) + 1e-30;
            if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
                fail("float32 " + l + " alpha=" + alpha + " beta=" + beta + ": element " + i + " is " + actual[i]
                        + ", the Java GEMM gives " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }

    @Test
    void openBlasAgreesWithTheJavaGemmOnAwkwardShapesInBothPrecisions() {
        if (!available()) {
            return; // not linux-x86_64: asserted in openBlasLoads where it must load
        }
        CpuGemm fast = new CpuGemm(2, CpuGemm.Route.FAST, CpuGemm.FAST_MIN_WORK, 0);
        CpuGemm java = new CpuGemm(2);
        long seed = 7;
        double[][] scalars = {{1, 0}, {0.75, 1}, {-1.3, -0.5}};
        for (int[] s : SHAPES) {
            for (int t = 0; t < 4; t++) {
                for (double[] ab : scalars) {
                    for (int off : new int[] {0, 5}) {
                        Layout l = new Layout((t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], off == 0 ? s[3] : s[3] + 1,
                                off);
                        check64(l, ab[0], ab[1], fast, java, seed++);
                        check32(l, (float) ab[0], (float) ab[1], fast, java, seed++);
                    }
                }
            }
        }
        fast.release();
        // After release the scratch space comes back on the next call.
        check64(new Layout(false, true, 9, 10, 11, 0, 0), 1, 0, fast, java, 99);
        fast.release();
    }

    @Test
    void autoTakesOpenBlasFromTheThresholdOnAndTheJavaGemmBelow() {
        assumeAvailable();
        CpuGemm auto = new CpuGemm(1, CpuGemm.Route.AUTO, 1000, 0);
        double[] a = new double[200];
        double[] b = new double[200];
        double[] c = new double[10 * 10];
        auto.gemm(false, false, 9, 10, 11, 1, a, 0, 11, b, 0, 10, 0, c, 0, 10); // 990 multiply-adds
        assertEquals(0, auto.fastCalls(), "990 < 1000 multiply-adds must stay in Java");
        auto.gemm(false, false, 10, 10, 10, 1, a, 0, 10, b, 0, 10, 0, c, 0, 10); // 1000
        assertEquals(1, auto.fastCalls(), "1000 multiply-adds must take OpenBLAS");
        float[] af = new float[100];
        auto.gemm(false, false, 10, 10, 10, 1f, af, 0, 10, af, 0, 10, 0f, new float[100], 0, 10);
        assertEquals(2, auto.fastCalls(), "float32 takes the same route");
        auto.gemm(false, false, 10, 10, 0, 1, a, 0, 10, b, 0, 10, 0, c, 0, 10); // k = 0: C = beta C, in Java
        assertEquals(2, auto.fastCalls());
        assertTrue(auto.describe().contains("OpenBLAS from 1000"), auto.describe());
        auto.release();

        CpuGemm java = new CpuGemm(1, CpuGemm.Route.JAVA, 1, 0);
        java.gemm(false, false, 10, 10, 10, 1, a, 0, 10, b, 0, 10, 0, c, 0, 10);
        assertEquals(0, java.fastCalls(), "java never takes OpenBLAS");
        assertFalse(java.describe().contains("OpenBLAS"), java.describe());

        CpuGemm fast = new CpuGemm(1, CpuGemm.Route.FAST, Long.MAX_VALUE, 0);
        fast.gemm(false, false, 1, 1, 1, 1, a, 0, 1, b, 0, 1, 0, c, 0, 1);
        assertEquals(1, fast.fastCalls(), "fast takes OpenBLAS whatever the size");
        fast.release();
    }

    @Test
    void autoDefersTheLoadUntilLargeProductsHaveDoneItsWorthInJava() {
        assumeAvailable();
        // OpenBLAS has loaded in this JVM by now (openBlasLoads): its cost is sunk, so large products take it at once.
        CpuGemm sunk = new CpuGemm(1, CpuGemm.Route.AUTO, 1000, Long.MAX_VALUE);
        double[] x = new double[100];
        sunk.gemm(false, false, 10, 10, 10, 1, x, 0, 10, x, 0, 10, 0, new double[100], 0, 10);
        assertEquals(1, sunk.fastCalls(), "once loaded, OpenBLAS takes large products whatever the budget");
    }

    @Test
    void autoKeepsThinProductsInJava() {
        assumeAvailable();
        CpuGemm auto = new CpuGemm(1, CpuGemm.Route.AUTO, 1000, 0, CpuGemm.FAST_MIN_INTENSITY);
        double[] a = new double[64 * 64];
        double[] w = new double[64 * 256];
        // (1 x 64)(64 x 256): 16384 multiply-adds, over the size threshold, but one per copied weight: Java
        auto.gemm(false, false, 1, 256, 64, 1, a, 0, 64, w, 0, 256, 0, new double[256], 0, 256);
        assertEquals(0, auto.fastCalls(), "a batch-1 step's product must stay in Java");
        // (64 x 64)(64 x 64): 21 multiply-adds per copied element: OpenBLAS
        auto.gemm(false, false, 64, 64, 64, 1, a, 0, 64, a, 0, 64, 0, new double[64 * 64], 0, 64);
        assertEquals(1, auto.fastCalls(), "a square 64^3 product must take OpenBLAS");
        auto.release();
    }

    @Test
    void theDefaultThresholdKeepsTheSeedsProductsInJava() {
        // The seeds' largest products: the LSTM's gates, (1 x 400) from (1 x 150)(150 x 400), and its batch-of-4 form.
        assertTrue(4L * 400 * 150 < CpuGemm.FAST_MIN_WORK);
        assertTrue(64L * 1024 * 256 >= CpuGemm.FAST_MIN_WORK);
    }

    @Test
    void theEnvironmentVariableNamesTheRoute() {
        assertEquals(CpuGemm.Route.AUTO, CpuGemm.routeFromEnvironment(null));
        assertEquals(CpuGemm.Route.AUTO, CpuGemm.routeFromEnvironment(" "));
        assertEquals(CpuGemm.Route.AUTO, CpuGemm.routeFromEnvironment("auto"));
        assertEquals(CpuGemm.Route.JAVA, CpuGemm.routeFromEnvironment("java"));
        assertEquals(CpuGemm.Route.FAST, CpuGemm.routeFromEnvironment(" FAST "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuGemm.routeFromEnvironment("openblas"));
        assertEquals("RNN4J_CPU_GEMM must be auto, java or fast, not 'openblas'", e.getMessage());
    }
}

package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link CpuGemm} against the original plain loop, bit for bit: every element of op(A) * op(B) summed over {@code p}
 * in ascending order, whatever the blocking, packing and number of threads.
 */
class CpuGemmTest {

    /** Shapes {m, n, k}: ones, odd, primes, around the micro-kernel's row count and the strip widths, large. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {1, 1, 0}, {3, 4, 0}, {1, 9, 1}, {7, 1, 3}, {2, 2, 2}, {3, 3, 3}, {4, 5, 6}, {5, 7, 11},
        {13, 17, 19}, {31, 37, 41}, {64, 65, 63}, {97, 255, 2}, {6, 257, 9}, {300, 257, 129},
        // strips: k = 1024 gives strips of 2048 columns; k = 8193 gives the narrowest strips, 256 columns
        {4, 2049, 1024}, {5, 257, 8193},
        // one LSTM step: batch 64, 4 * 256 gates, 256 inputs
        {64, 1024, 256},
    };

    /** Thread counts to try; the answers must not depend on them. */
    private static final int[] THREADS = {1, 2, 3, 5};

    // ----- the oracles: the original loops, copied verbatim -----

    static void oracle(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao,
                       int lda, double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        double[] acc = new double[n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                acc[j] = 0;
            }
            for (int p = 0; p < k; p++) {
                double aip = av[ao + i * aRow + p * aCol];
                int bp = bo + p * bRow;
                for (int j = 0; j < n; j++) {
                    acc[j] += aip * bv[bp + j * bCol];
                }
            }
            int ci = co + i * ldc;
            if (beta == 0) {
                for (int j = 0; j < n; j++) {
                    cv[ci + j] = alpha * acc[j];
                }
            } else {
                for (int j = 0; j < n; j++) {
                    cv[ci + j] = alpha * acc[j] + beta * cv[ci + j];
                }
            }
        }
    }

    static void oracle(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao,
                       int lda, float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        float[] acc = new float[n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                acc[j] = 0;
            }
            for (int p = 0; p < k; p++) {
                float aip = av[ao + i * aRow + p * aCol];
                int bp = bo + p * bRow;
                for (int j = 0; j < n; j++) {
                    acc[j] += aip * bv[bp + j * bCol];
                }
            }
            int ci = co + i * ldc;
            if (beta == 0) {
                for (int j = 0; j < n; j++) {
                    cv[ci + j] = alpha * acc[j];
                }
            } else {
                for (int j = 0; j < n; j++) {
                    cv[ci + j] = alpha * acc[j] + beta * cv[ci + j];
                }
            }
        }
    }

    // ----- one case -----

    /** Values of mixed sign and magnitude, so that any change in the order of the sums shows in the last bits. */
    private static double value(SplittableRandom rnd) {
        return rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-6, 7));
    }

    /** A layout: leading dimensions padded by {@code pad}, the matrices placed at {@code off} in their arrays. */
    private record Case(boolean transA, boolean transB, int m, int n, int k, int pad, int off, double alpha,
                        double beta) {
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

        @Override
        public String toString() {
            return String.format("transA=%b transB=%b m=%d n=%d k=%d pad=%d off=%d alpha=%s beta=%s",
                    transA, transB, m, n, k, pad, off, alpha, beta);
        }
    }

    private static final double SENTINEL = -12345.678;

    private static void check64(Case c, List<CpuGemm> gemms, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] a = new double[c.aLen()];
        double[] b = new double[c.bLen()];
        double[] c0 = new double[c.cLen()];
        for (int i = 0; i < a.length; i++) {
            a[i] = value(rnd);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = value(rnd);
        }
        for (int i = 0; i < c0.length; i++) {
            // beta == 0: C must not be read, so NaN there must not show.
            c0[i] = !c.inC(i) ? SENTINEL : c.beta == 0 ? Double.NaN : value(rnd);
        }
        double[] expected = c0.clone();
        oracle(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, c.off, c.lda(), b, c.off, c.ldb(), c.beta, expected,
                c.off, c.ldc());
        for (CpuGemm g : gemms) {
            double[] actual = c0.clone();
            g.gemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, a, c.off, c.lda(), b, c.off, c.ldb(), c.beta, actual,
                    c.off, c.ldc());
            for (int i = 0; i < actual.length; i++) {
                if (Double.doubleToLongBits(actual[i]) != Double.doubleToLongBits(expected[i])) {
                    fail("float64 " + c + " threads=" + g.threads() + ": element " + i + (c.inC(i) ? "" : " (outside C)")
                            + " is " + actual[i] + ", expected " + expected[i]);
                }
                if (!c.inC(i)) {
                    assertEquals(SENTINEL, actual[i], "padding touched");
                }
            }
        }
    }

    private static void check32(Case c, List<CpuGemm> gemms, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] a = new float[c.aLen()];
        float[] b = new float[c.bLen()];
        float[] c0 = new float[c.cLen()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) value(rnd);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) value(rnd);
        }
        for (int i = 0; i < c0.length; i++) {
            c0[i] = !c.inC(i) ? (float) SENTINEL : c.beta == 0 ? Float.NaN : (float) value(rnd);
        }
        float alpha = (float) c.alpha;
        float beta = (float) c.beta;
        float[] expected = c0.clone();
        oracle(c.transA, c.transB, c.m, c.n, c.k, alpha, a, c.off, c.lda(), b, c.off, c.ldb(), beta, expected,
                c.off, c.ldc());
        for (CpuGemm g : gemms) {
            float[] actual = c0.clone();
            g.gemm(c.transA, c.transB, c.m, c.n, c.k, alpha, a, c.off, c.lda(), b, c.off, c.ldb(), beta, actual,
                    c.off, c.ldc());
            for (int i = 0; i < actual.length; i++) {
                if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(expected[i])) {
                    fail("float32 " + c + " threads=" + g.threads() + ": element " + i + (c.inC(i) ? "" : " (outside C)")
                            + " is " + actual[i] + ", expected " + expected[i]);
                }
                if (!c.inC(i)) {
                    assertEquals((float) SENTINEL, actual[i], "padding touched");
                }
            }
        }
    }

    private static List<CpuGemm> gemms() {
        List<CpuGemm> gemms = new ArrayList<>();
        for (int t : THREADS) {
            gemms.add(new CpuGemm(t));
        }
        return gemms;
    }

    // ----- the tests -----

    @Test
    void matchesTheOriginalLoopBitForBitInFloat64() {
        List<CpuGemm> gemms = gemms();
        long seed = 1;
        for (int[] s : SHAPES) {
            for (int t = 0; t < 4; t++) {
                boolean transA = (t & 1) != 0;
                boolean transB = (t & 2) != 0;
                check64(new Case(transA, transB, s[0], s[1], s[2], 0, 0, 1.0, 0.0), gemms, seed++);
                check64(new Case(transA, transB, s[0], s[1], s[2], 3, 5, 0.75, 1.0), gemms, seed++);
                check64(new Case(transA, transB, s[0], s[1], s[2], 1, 2, -1.3, -0.5), gemms, seed++);
            }
        }
    }

    @Test
    void matchesTheOriginalLoopBitForBitInFloat32() {
        List<CpuGemm> gemms = gemms();
        long seed = 1001;
        for (int[] s : SHAPES) {
            for (int t = 0; t < 4; t++) {
                boolean transA = (t & 1) != 0;
                boolean transB = (t & 2) != 0;
                check32(new Case(transA, transB, s[0], s[1], s[2], 0, 0, 1.0, 0.0), gemms, seed++);
                check32(new Case(transA, transB, s[0], s[1], s[2], 3, 5, 0.75, 1.0), gemms, seed++);
                check32(new Case(transA, transB, s[0], s[1], s[2], 1, 2, -1.3, -0.5), gemms, seed++);
            }
        }
    }

    @Test
    void reusedScratchGivesTheSameAnswersWhenShapesShrinkAndGrow() {
        // One instance through big, small, big again: stale scratch must never leak into a result.
        List<CpuGemm> gemms = List.of(new CpuGemm(1), new CpuGemm(2));
        int[][] shapes = {{300, 257, 129}, {3, 2, 5}, {1, 300, 1}, {65, 129, 300}, {2, 2, 1}, {64, 1024, 256}};
        long seed = 5000;
        for (int[] s : shapes) {
            check64(new Case(false, true, s[0], s[1], s[2], 2, 1, 1.0, 1.0), gemms, seed++);
            check32(new Case(true, false, s[0], s[1], s[2], 0, 3, 1.0, 0.0), gemms, seed++);
        }
    }

    @Test
    void largeProductsTakeTheMultiThreadedPath() {
        // The shapes above that must be split among tasks are at least this big.
        assertTrue(300L * 257 * 129 >= CpuGemm.PARALLEL_MIN_WORK);
        assertTrue(64L * 1024 * 256 >= CpuGemm.PARALLEL_MIN_WORK);
        assertTrue(3L * 4 * 5 < CpuGemm.PARALLEL_MIN_WORK);
    }

    @Test
    void specialValuesFollowTheOriginalLoop() {
        // Signed zeros, infinities and NaN in A and B: the order of the operations decides every bit, except the sign
        // and payload of a NaN, which Java leaves open (the original loop's own NaNs differ between the interpreter,
        // scalar and vector code), hence doubleToLongBits / floatToIntBits, which fold every NaN into one.
        double[] specials = {0.0, -0.0, 1.0, -1.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN,
            Double.MIN_VALUE, -Double.MAX_VALUE, 1e-300, 3.5};
        int m = 7;
        int n = 9;
        int k = 5;
        SplittableRandom rnd = new SplittableRandom(77);
        List<CpuGemm> gemms = gemms();
        for (int rep = 0; rep < 20; rep++) {
            double[] a = new double[m * k];
            double[] b = new double[k * n];
            float[] af = new float[m * k];
            float[] bf = new float[k * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = specials[rnd.nextInt(specials.length)];
                af[i] = (float) a[i];
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = specials[rnd.nextInt(specials.length)];
                bf[i] = (float) b[i];
            }
            double[] expected = new double[m * n];
            float[] expectedF = new float[m * n];
            oracle(false, false, m, n, k, 1.0, a, 0, k, b, 0, n, 0.0, expected, 0, n);
            oracle(false, false, m, n, k, 1f, af, 0, k, bf, 0, n, 0f, expectedF, 0, n);
            for (CpuGemm g : gemms) {
                double[] actual = new double[m * n];
                float[] actualF = new float[m * n];
                g.gemm(false, false, m, n, k, 1.0, a, 0, k, b, 0, n, 0.0, actual, 0, n);
                g.gemm(false, false, m, n, k, 1f, af, 0, k, bf, 0, n, 0f, actualF, 0, n);
                for (int i = 0; i < actual.length; i++) {
                    assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(actual[i]),
                            "float64 element " + i);
                    assertEquals(Float.floatToIntBits(expectedF[i]), Float.floatToIntBits(actualF[i]),
                            "float32 element " + i);
                }
            }
        }
    }

    @Test
    void threadCountIsConfigurableAndValidated() {
        assertTrue(CpuGemm.defaultThreads() >= 1);
        assertEquals(4, new CpuGemm(4).threads());
        assertThrows(IllegalArgumentException.class, () -> new CpuGemm(0));
        String old = System.getProperty(CpuGemm.THREADS_PROPERTY);
        try {
            System.setProperty(CpuGemm.THREADS_PROPERTY, "3");
            assertEquals(3, CpuGemm.configuredThreads());
            System.setProperty(CpuGemm.THREADS_PROPERTY, "zero");
            assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors()), CpuGemm.configuredThreads());
            System.setProperty(CpuGemm.THREADS_PROPERTY, "-2");
            assertEquals(Math.max(1, Runtime.getRuntime().availableProcessors()), CpuGemm.configuredThreads());
        } finally {
            if (old == null) {
                System.clearProperty(CpuGemm.THREADS_PROPERTY);
            } else {
                System.setProperty(CpuGemm.THREADS_PROPERTY, old);
            }
        }
    }

    @Test
    void poolThreadsAreDaemons() {
        CpuGemm g = new CpuGemm(2);
        float[] a = new float[128 * 128];
        float[] c = new float[128 * 128];
        g.gemm(false, false, 128, 128, 128, 1f, a, 0, 128, a, 0, 128, 0f, c, 0, 128);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("rnn4j-cpu-gemm-")) {
                assertTrue(t.isDaemon(), t.getName() + " is not a daemon");
            }
        }
    }
}

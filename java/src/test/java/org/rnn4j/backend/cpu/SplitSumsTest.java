package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * {@link CpuBackend64#withSplitSums}, the perturbed reference of {@code --check} in float64: each GEMM is, bit for bit,
 * the plain loop over the first {@code floor(k * at)} terms followed by the plain loop over the rest with
 * {@code beta = 1}, which differs from one plain loop in rounding only.
 */
class SplitSumsTest {

    private static double[] gemm(Backend be, boolean tA, boolean tB, int m, int n, int k, double[] a, double[] b,
                                 double beta, double[] c, int lda, int ldb, int ldc) {
        Buffer ab = be.allocate(a.length);
        Buffer bb = be.allocate(b.length);
        Buffer cb = be.allocate(c.length);
        be.upload(a, ab);
        be.upload(b, bb);
        be.upload(c, cb);
        be.gemm(tA, tB, m, n, k, 0.75, ab, lda, bb, ldb, beta, cb, ldc);
        return be.download(cb);
    }

    @Test
    void eachGemmIsTwoPlainSumsAndDiffersFromOneInRoundingOnly() {
        SplittableRandom rng = new SplittableRandom(11);
        int m = 7;
        int n = 9;
        int k = 301;
        for (int t = 0; t < 4; t++) {
            boolean tA = (t & 1) != 0;
            boolean tB = (t & 2) != 0;
            int lda = (tA ? m : k) + 2;
            int ldb = (tB ? k : n) + 1;
            int ldc = n + 3;
            double[] a = rng.doubles((tA ? k : m) * lda, -1, 1).toArray();
            double[] b = rng.doubles((tB ? n : k) * ldb, -1, 1).toArray();
            double[] c = rng.doubles(m * ldc, -1, 1).toArray();
            for (double at : new double[] {0.5, 0.3}) {
                int k1 = (int) (k * at);
                double[] want = c.clone();
                CpuGemmTest.oracle(tA, tB, m, n, k1, 0.75, a, 0, lda, b, 0, ldb, -0.5, want, 0, ldc);
                CpuGemmTest.oracle(tA, tB, m, n, k - k1, 0.75, a, tA ? k1 * lda : k1, lda, b, tB ? k1 : k1 * ldb, ldb,
                        1.0, want, 0, ldc);
                double[] got;
                double[] plain;
                try (Backend split = CpuBackend64.withSplitSums(at); Backend ref = new CpuBackend64()) {
                    got = gemm(split, tA, tB, m, n, k, a, b, -0.5, c, lda, ldb, ldc);
                    plain = gemm(ref, tA, tB, m, n, k, a, b, -0.5, c, lda, ldb, ldc);
                }
                assertArrayEquals(want, got, "tA=" + tA + " tB=" + tB + " at=" + at);
                int differ = 0;
                for (int i = 0; i < got.length; i++) {
                    double d = Math.abs(got[i] - plain[i]);
                    assertTrue(d <= 2 * (k + 2) * 0x1p-53 * (0.75 * k + 0.5), "rounding only: " + d);
                    differ += d > 0 ? 1 : 0;
                }
                assertTrue(differ > 0, "the split changed the rounding somewhere (tA=" + tA + " tB=" + tB + ")");
            }
        }
    }

    @Test
    void aSumOfOneTermIsNotSplitAndTheSplitPointIsChecked() {
        double[] a = {0.1, 0.2, 0.3};
        double[] b = {0.7, 0.11, 0.13};
        try (Backend split = CpuBackend64.withSplitSums(0.5); Backend ref = new CpuBackend64()) {
            assertArrayEquals(gemm(ref, false, false, 3, 3, 1, a, b, 0, new double[9], 1, 3, 3),
                    gemm(split, false, false, 3, 3, 1, a, b, 0, new double[9], 1, 3, 3));
        }
        for (double at : new double[] {0, 1, -0.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CpuBackend64.withSplitSums(at));
            assertTrue(e.getMessage().startsWith("at must lie strictly between 0 and 1"), e.getMessage());
        }
    }
}

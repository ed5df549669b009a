package org.rnn4j.backend.cpu;

import java.util.Arrays;

/**
 * The float64 kernels of {@link CpuGemm}: the direct loop for small products, the packing of op(B) into strips, the
 * register-blocked micro-kernels and the scaling by alpha and beta, over {@code double}. The scheduling (strips,
 * tasks, threads) is {@link CpuGemm}'s; {@link CpuGemmKernels32} is generated from this file (see its header).
 */
final class CpuGemmKernels64 extends CpuGemm.Kernels {

    private double[][] packB = new double[0][];
    private double[][][] accSets = new double[0][][];
    private double[] smallAcc = new double[64];

    // The call in progress (set by gemm, read by the tasks; the arrays are dropped when the call returns).
    private double[] callA;
    private double[] callB;
    private double[] callC;
    private double callAlpha;
    private double callBeta;

    CpuGemmKernels64(CpuGemm scheduler) {
        super(scheduler);
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C}, see {@link CpuGemm}. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao, int lda,
              double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if ((long) m * n * k <= CpuGemm.SMALL_WORK) {
            small(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
            return;
        }
        int w = CpuGemm.stripWidth(n, k);
        ensure(k, w);
        callA = av;
        callB = bv;
        callC = cv;
        callAlpha = alpha;
        callBeta = beta;
        setShape(transA, transB, m, n, k, ao, lda, bo, ldb, co, ldc);
        try {
            scheduler.runStrips(this, w);
        } finally {
            callA = null;
            callB = null;
            callC = null;
        }
    }

    /** The direct loop for small products: per element, the same sum in the same order as the blocked path. */
    private void small(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao,
                       int lda, double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        if (smallAcc.length < n) {
            smallAcc = new double[Math.max(n, 64)];
        }
        double[] acc = smallAcc;
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

    @Override
    void pack(int p0, int p1, int j0, int jw) {
        double[] bv = callB;
        double[][] pb = packB;
        if (bCol == 1) {
            for (int p = p0; p < p1; p++) {
                System.arraycopy(bv, bo + p * bRow + j0, pb[p], 0, jw);
            }
            return;
        }
        // B transposed: op(B)(p, j) = B[j * ldb + p]; go in tiles of columns so the lines read stay in L1.
        for (int jt = 0; jt < jw; jt += CpuGemm.PACK_TILE) {
            int jtEnd = Math.min(jw, jt + CpuGemm.PACK_TILE);
            for (int p = p0; p < p1; p++) {
                double[] row = pb[p];
                int src = bo + p * bRow + j0 * bCol;
                for (int jj = jt; jj < jtEnd; jj++) {
                    row[jj] = bv[src + jj * bCol];
                }
            }
        }
    }

    @Override
    void rows(int slot, int i0, int i1, int j0, int jw) {
        double[][] acc = accSets[slot];
        double[][] pb = packB;
        double[] av = callA;
        double[] cv = callC;
        double alpha = callAlpha;
        double beta = callBeta;
        for (int i = i0; i < i1; i += CpuGemm.MR) {
            int rows = Math.min(CpuGemm.MR, i1 - i);
            int ia = ao + i * aRow;
            if (rows == 3) {
                kernel3(acc[0], acc[1], acc[2], av, ia, aRow, aCol, k, pb, jw);
            } else if (rows == 2) {
                kernel2(acc[0], acc[1], av, ia, aRow, aCol, k, pb, jw);
            } else {
                kernel1(acc[0], av, ia, aCol, k, pb, jw);
            }
            for (int r = 0; r < rows; r++) {
                double[] ar = acc[r];
                int ci = co + (i + r) * ldc + j0;
                if (beta == 0) {
                    for (int j = 0; j < jw; j++) {
                        cv[ci + j] = alpha * ar[j];
                    }
                } else {
                    for (int j = 0; j < jw; j++) {
                        cv[ci + j] = alpha * ar[j] + beta * cv[ci + j];
                    }
                }
            }
        }
    }

    /*
     * The micro-kernels: rows of op(A) * op(B) over the packed strip, into accumulator rows indexed like the packed
     * rows of B. Every array in the inner loops is indexed by the bare loop variable j, which is what lets C2
     * vectorise them (an offset such as b[bp + j] next to acc[j] keeps JDK 17's SuperWord scalar), and each keeps
     * at most five arrays live (more and C2 gives up). Two values of p per pass, added in ascending order into the
     * same accumulator: c = (c + a_p * b_p) + a_p+1 * b_p+1, exactly what two passes of the plain loop compute.
     */

    private static void kernel3(double[] c0, double[] c1, double[] c2, double[] av, int ia, int aRow, int aCol,
                                int k, double[][] b, int w) {
        for (int j = 0; j < w; j++) {
            c0[j] = 0;
            c1[j] = 0;
            c2[j] = 0;
        }
        int p = 0;
        for (; p + 1 < k; p += 2) {
            int a0 = ia + p * aCol;
            int a1 = a0 + aRow;
            int a2 = a1 + aRow;
            double x0 = av[a0];
            double x1 = av[a0 + aCol];
            double y0 = av[a1];
            double y1 = av[a1 + aCol];
            double z0 = av[a2];
            double z1 = av[a2 + aCol];
            double[] b0 = b[p];
            double[] b1 = b[p + 1];
            for (int j = 0; j < w; j++) {
                c0[j] = (c0[j] + x0 * b0[j]) + x1 * b1[j];
                c1[j] = (c1[j] + y0 * b0[j]) + y1 * b1[j];
                c2[j] = (c2[j] + z0 * b0[j]) + z1 * b1[j];
            }
        }
        if (p < k) {
            int a0 = ia + p * aCol;
            double x0 = av[a0];
            double y0 = av[a0 + aRow];
            double z0 = av[a0 + 2 * aRow];
            double[] b0 = b[p];
            for (int j = 0; j < w; j++) {
                c0[j] += x0 * b0[j];
                c1[j] += y0 * b0[j];
                c2[j] += z0 * b0[j];
            }
        }
    }

    private static void kernel2(double[] c0, double[] c1, double[] av, int ia, int aRow, int aCol,
                                int k, double[][] b, int w) {
        for (int j = 0; j < w; j++) {
            c0[j] = 0;
            c1[j] = 0;
        }
        int p = 0;
        for (; p + 1 < k; p += 2) {
            int a0 = ia + p * aCol;
            int a1 = a0 + aRow;
            double x0 = av[a0];
            double x1 = av[a0 + aCol];
            double y0 = av[a1];
            double y1 = av[a1 + aCol];
            double[] b0 = b[p];
            double[] b1 = b[p + 1];
            for (int j = 0; j < w; j++) {
                c0[j] = (c0[j] + x0 * b0[j]) + x1 * b1[j];
                c1[j] = (c1[j] + y0 * b0[j]) + y1 * b1[j];
            }
        }
        if (p < k) {
            int a0 = ia + p * aCol;
            double x0 = av[a0];
            double y0 = av[a0 + aRow];
            double[] b0 = b[p];
            for (int j = 0; j < w; j++) {
                c0[j] += x0 * b0[j];
                c1[j] += y0 * b0[j];
            }
        }
    }

    private static void kernel1(double[] c0, double[] av, int ia, int aCol, int k, double[][] b, int w) {
        for (int j = 0; j < w; j++) {
            c0[j] = 0;
        }
        int p = 0;
        for (; p + 3 < k; p += 4) {
            int a0 = ia + p * aCol;
            double x0 = av[a0];
            double x1 = av[a0 + aCol];
            double x2 = av[a0 + 2 * aCol];
            double x3 = av[a0 + 3 * aCol];
            double[] b0 = b[p];
            double[] b1 = b[p + 1];
            double[] b2 = b[p + 2];
            double[] b3 = b[p + 3];
            for (int j = 0; j < w; j++) {
                c0[j] = (((c0[j] + x0 * b0[j]) + x1 * b1[j]) + x2 * b2[j]) + x3 * b3[j];
            }
        }
        for (; p < k; p++) {
            double x0 = av[ia + p * aCol];
            double[] b0 = b[p];
            for (int j = 0; j < w; j++) {
                c0[j] += x0 * b0[j];
            }
        }
    }

    private void ensure(int k, int w) {
        if (packB.length < k) {
            packB = Arrays.copyOf(packB, k);
        }
        for (int p = 0; p < k; p++) {
            if (packB[p] == null || packB[p].length < w) {
                packB[p] = new double[w];
            }
        }
        int threads = scheduler.threads();
        if (accSets.length < threads) {
            accSets = Arrays.copyOf(accSets, threads);
        }
        for (int t = 0; t < threads; t++) {
            if (accSets[t] == null || accSets[t][0].length < w) {
                accSets[t] = new double[CpuGemm.MR][w];
            }
        }
    }

    @Override
    void release() {
        packB = new double[0][];
        accSets = new double[0][][];
    }
}

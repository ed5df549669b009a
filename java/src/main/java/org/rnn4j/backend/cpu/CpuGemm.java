package org.rnn4j.backend.cpu;

/**
 * The CPU backends' GEMM, row-major, with the semantics documented on {@link org.rnn4j.backend.Backend#gemm}:
 * {@code C = alpha * op(A) * op(B) + beta * C}, {@code C} not read when {@code beta == 0}. Each element of the product
 * is summed over {@code p} in ascending order, the order the seeds' numbers were reproduced with; any faster version
 * must keep that order per element so that results stay bit-for-bit the same.
 *
 * <p>One instance per backend: it owns the scratch space, grown on demand, so no call allocates in steady state.
 */
final class CpuGemm {

    private double[] rowScratch64 = new double[0];
    private float[] rowScratch32 = new float[0];

    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao, int lda,
              double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        // Strides that turn op(A)(i, p) and op(B)(p, j) into array indices whatever the transpose flags.
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        if (rowScratch64.length < n) {
            rowScratch64 = new double[n];
        }
        double[] acc = rowScratch64;
        for (int i = 0; i < m; i++) {
            // Row i of op(A) * op(B), each element summed over p in ascending order.
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

    /** The same in float; {@code alpha} and {@code beta} arrive rounded to float (a beta that rounds to 0 is 0). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao, int lda,
              float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        if (rowScratch32.length < n) {
            rowScratch32 = new float[n];
        }
        float[] acc = rowScratch32;
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

    /** Drops the scratch space (when the backend closes). */
    void release() {
        rowScratch64 = new double[0];
        rowScratch32 = new float[0];
    }
}

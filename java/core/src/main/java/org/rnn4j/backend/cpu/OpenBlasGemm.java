package org.rnn4j.backend.cpu;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * The fast route of {@link CpuGemm}: OpenBLAS's {@code cblas_sgemm}/{@code cblas_dgemm} (the {@code org.bytedeco:openblas}
 * build, through JavaCPP), on off-heap copies of the operands.
 *
 * <p>The CPU backends keep their buffers in Java arrays, which native code cannot read in place without pinning them;
 * so each call copies op(A)'s and op(B)'s stored rows (and C's when {@code beta != 0}) into off-heap scratch space,
 * owned by this instance and grown on demand, and copies C back. The copies are O(mk + kn + mn) against the product's
 * O(mnk), measured worth it from products of {@link CpuGemm#FAST_MIN_WORK} multiply-adds (see the README's
 * performance section). Nothing in C outside its m x n elements is written.
 *
 * <p>Only this class names JavaCPP or OpenBLAS: the JVM loads them (and the 12 MB of native libraries, a third of a
 * second even when cached) the first time a product takes this route, never for the small products of the seeds.
 * The libraries are extracted to a private directory ({@link PrivateNativeDirectory}). OpenBLAS runs on
 * {@code rnn4j.cpu.threads} threads, as the Java GEMM.
 *
 * <p>Results are OpenBLAS's: each element's sum is not in the Java GEMM's sequential order (blocked, with fused
 * multiply-adds), so they differ from it by rounding. One instance per backend, used by one thread at a time.
 */
final class OpenBlasGemm {

    private static final int ROW_MAJOR = openblas_nolapack.CblasRowMajor;
    private static final int NO_TRANS = openblas_nolapack.CblasNoTrans;
    private static final int TRANS = openblas_nolapack.CblasTrans;

    /** The load, once per JVM: null when OpenBLAS is usable, else why not (one line). */
    private static final class Library {
        static final String PROBLEM = load();
    }

    private FloatPointer fa;
    private FloatPointer fb;
    private FloatPointer fc;
    private DoublePointer da;
    private DoublePointer db;
    private DoublePointer dc;

    /**
     * Loads OpenBLAS when not done yet (the first call takes a third of a second or more).
     *
     * @return null when usable, else why not, in one line
     */
    static String problem() {
        return Library.PROBLEM;
    }

    private static String load() {
        try {
            if (System.getProperty(PrivateNativeDirectory.JAVACPP_CACHE_PROPERTY) == null) {
                Path dir = PrivateNativeDirectory.prepare(PrivateNativeDirectory.javacppCache(System.getenv(),
                        System.getProperty("user.home")));
                System.setProperty(PrivateNativeDirectory.JAVACPP_CACHE_PROPERTY, dir.toString());
            }
            Loader.load(openblas_nolapack.class);
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(CpuGemm.defaultThreads());
            return null;
        } catch (IllegalStateException e) {
            return "cannot keep OpenBLAS's native libraries private: " + e.getMessage();
        } catch (Throwable e) { // LinkageError on a platform without natives, or anything JavaCPP throws
            String m = e.getMessage();
            m = m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse("").strip();
            return "cannot load OpenBLAS (org.bytedeco:openblas, linux-x86_64 only): " + m;
        }
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} as {@link CpuGemm#gemm}; needs {@code m, n, k >= 1}. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao, int lda,
              double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        int aLen = stored(aRows, aCols, lda);
        int bLen = stored(bRows, bCols, ldb);
        da = fit(da, aLen);
        db = fit(db, bLen);
        dc = fit(dc, (long) m * n);
        int la = put(da.asBuffer(), av, ao, aRows, aCols, lda, aLen);
        int lb = put(db.asBuffer(), bv, bo, bRows, bCols, ldb, bLen);
        DoubleBuffer c = dc.asBuffer();
        if (beta != 0) {
            for (int i = 0; i < m; i++) {
                c.put(i * n, cv, co + i * ldc, n);
            }
        }
        openblas_nolapack.cblas_dgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                alpha, da, la, db, lb, beta, dc, n);
        for (int i = 0; i < m; i++) {
            c.get(i * n, cv, co + i * ldc, n);
        }
    }

    /** The same in float. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao, int lda,
              float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        int aLen = stored(aRows, aCols, lda);
        int bLen = stored(bRows, bCols, ldb);
        fa = fit(fa, aLen);
        fb = fit(fb, bLen);
        fc = fit(fc, (long) m * n);
        int la = put(fa.asBuffer(), av, ao, aRows, aCols, lda, aLen);
        int lb = put(fb.asBuffer(), bv, bo, bRows, bCols, ldb, bLen);
        FloatBuffer c = fc.asBuffer();
        if (beta != 0) {
            for (int i = 0; i < m; i++) {
                c.put(i * n, cv, co + i * ldc, n);
            }
        }
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                alpha, fa, la, fb, lb, beta, fc, n);
        for (int i = 0; i < m; i++) {
            c.get(i * n, cv, co + i * ldc, n);
        }
    }

    /**
     * How many elements the off-heap copy of a stored {@code rows x cols} matrix with leading dimension {@code ld}
     * takes: its whole span when the padding between rows is at most as large as the matrix (one bulk copy, the same
     * leading dimension), else {@code rows * cols} (copied row by row, packed).
     */
    static int stored(int rows, int cols, int ld) {
        long span = (long) (rows - 1) * ld + cols;
        long dense = (long) rows * cols;
        return (int) (span <= 2 * dense ? span : dense);
    }

    /** Copies a stored matrix as {@link #stored} says; returns the copy's leading dimension. */
    private static int put(DoubleBuffer dst, double[] src, int off, int rows, int cols, int ld, int len) {
        if (len == (long) (rows - 1) * ld + cols) { // the whole span, padding included: one bulk copy
            dst.put(0, src, off, len);
            return Math.max(ld, cols);
        }
        for (int r = 0; r < rows; r++) {
            dst.put(r * cols, src, off + r * ld, cols);
        }
        return cols;
    }

    private static int put(FloatBuffer dst, float[] src, int off, int rows, int cols, int ld, int len) {
        if (len == (long) (rows - 1) * ld + cols) { // the whole span, padding included: one bulk copy
            dst.put(0, src, off, len);
            return Math.max(ld, cols);
        }
        for (int r = 0; r < rows; r++) {
            dst.put(r * cols, src, off + r * ld, cols);
        }
        return cols;
    }

    private static DoublePointer fit(DoublePointer p, long n) {
        if (p != null && p.capacity() >= n) {
            return p;
        }
        if (p != null) {
            p.close();
        }
        DoublePointer q = new DoublePointer(Math.max(n, 1024));
        if (q.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + n * 8 + " bytes off the heap for the CPU GEMM");
        }
        return q;
    }

    private static FloatPointer fit(FloatPointer p, long n) {
        if (p != null && p.capacity() >= n) {
            return p;
        }
        if (p != null) {
            p.close();
        }
        FloatPointer q = new FloatPointer(Math.max(n, 1024));
        if (q.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + n * 4 + " bytes off the heap for the CPU GEMM");
        }
        return q;
    }

    /** Frees the off-heap scratch space (when the backend closes); a later call allocates it again. */
    void release() {
        for (AutoCloseable p : new AutoCloseable[] {fa, fb, fc, da, db, dc}) {
            if (p != null) {
                try {
                    p.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        fa = null;
        fb = null;
        fc = null;
        da = null;
        db = null;
        dc = null;
    }
}

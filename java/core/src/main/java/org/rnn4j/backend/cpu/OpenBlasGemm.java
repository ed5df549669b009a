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
 * so each call copies op(A)'s and op(B)'s stored rows (and C's when {@code beta != 0}) into off-heap memory, owned by
 * this instance, and copies C back. The copies are O(mk + kn + mn) against the product's O(mnk), measured worth it
 * from products of {@link CpuGemm#FAST_MIN_WORK} multiply-adds (see the README's performance section). Nothing in C
 * outside its m x n elements is written.
 *
 * <p><b>Operand copies are kept</b> ({@link #CACHED} of them, of at most {@link #KEEP_MAX} elements each, least
 * recently used replaced; larger operands are copied into reused scratch space at every call): an operand read again
 * unchanged is not copied again. That is the weight matrix of a recurrent layer, read by every step's GEMM (T times in
 * the forward, T times in the backward; at H = 256 in float32, a 1 MiB copy per step that cost about a quarter of the
 * step's product). A copy is valid while nothing wrote its range of the array: the backend reports every range an
 * operation may write ({@link #written}) before the operation runs, and this class reports C's range after each
 * product, so a kept copy is forgotten as soon as its source may have changed.
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

    /** How many operand copies are kept. */
    static final int CACHED = 4;

    /**
     * Operands of more elements than this are copied into scratch space of their own (one for A, one for B, reused
     * as before) and never kept: what is worth keeping is a layer's weights, and keeping large activations would
     * multiply the off-heap memory by the number of slots. 2^22 elements: the weights of H = 1024 ({@code 4H x H});
     * kept copies hold at most {@code CACHED * 2^22} elements (64 MiB in float32, 128 MiB in float64).
     */
    static final int KEEP_MAX = 1 << 22;

    /**
     * One off-heap operand copy: of {@code rows x cols} stored with leading dimension {@code ld} from {@code offset}
     * of {@code array} (null when free), {@code span} elements of it, packed with leading dimension {@code packedLd}.
     */
    private static final class Copy {
        Object array;
        int offset;
        int rows;
        int cols;
        int ld;
        int span;
        int packedLd;
        long lastUse;
        FloatPointer floats;
        DoublePointer doubles;

        boolean holds(Object a, int off, int r, int c, int l) {
            return array == a && offset == off && rows == r && cols == c && ld == l;
        }

        void close() {
            if (floats != null) {
                floats.close();
            }
            if (doubles != null) {
                doubles.close();
            }
            floats = null;
            doubles = null;
            array = null;
        }
    }

    private final Copy[] copies = new Copy[CACHED];
    /** The scratch copies of operands too large to keep, A's and B's. */
    private final Copy largeA = new Copy();
    private final Copy largeB = new Copy();
    /** Copies currently holding an operand (0 lets {@link #written} return at once). */
    private int held;
    private long uses;
    /** Copies made (for the tests: a kept operand read again is not copied again). */
    private long operandCopies;
    private FloatPointer fc;
    private DoublePointer dc;

    /** Operands of more elements than this are not kept ({@link #KEEP_MAX} but in tests). */
    private final int keepMax;

    OpenBlasGemm() {
        this(KEEP_MAX);
    }

    /** With another size limit on kept copies (the tests'). */
    OpenBlasGemm(int keepMax) {
        this.keepMax = keepMax;
        for (int i = 0; i < CACHED; i++) {
            copies[i] = new Copy();
        }
    }

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
        Copy ca = operand(av, ao, aRows, aCols, lda, true, null, largeA);
        Copy cb = operand(bv, bo, bRows, bCols, ldb, true, ca, largeB);
        dc = fit(dc, (long) m * n);
        DoubleBuffer c = dc.asBuffer();
        if (beta != 0) {
            for (int i = 0; i < m; i++) {
                c.put(i * n, cv, co + i * ldc, n);
            }
        }
        openblas_nolapack.cblas_dgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                alpha, ca.doubles, ca.packedLd, cb.doubles, cb.packedLd, beta, dc, n);
        for (int i = 0; i < m; i++) {
            c.get(i * n, cv, co + i * ldc, n);
        }
        written(cv, co, (m - 1) * ldc + n);
    }

    /** The same in float. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao, int lda,
              float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        int aRows = transA ? k : m;
        int aCols = transA ? m : k;
        int bRows = transB ? n : k;
        int bCols = transB ? k : n;
        Copy ca = operand(av, ao, aRows, aCols, lda, false, null, largeA);
        Copy cb = operand(bv, bo, bRows, bCols, ldb, false, ca, largeB);
        fc = fit(fc, (long) m * n);
        FloatBuffer c = fc.asBuffer();
        if (beta != 0) {
            for (int i = 0; i < m; i++) {
                c.put(i * n, cv, co + i * ldc, n);
            }
        }
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                alpha, ca.floats, ca.packedLd, cb.floats, cb.packedLd, beta, fc, n);
        for (int i = 0; i < m; i++) {
            c.get(i * n, cv, co + i * ldc, n);
        }
        written(cv, co, (m - 1) * ldc + n);
    }

    /**
     * The off-heap copy of a stored operand: a kept one when it holds exactly this operand, else a new copy made in
     * the least recently used slot other than {@code busy} (the call's other operand), or in {@code large} (not
     * kept) when the operand has more than {@link #KEEP_MAX} elements (or the tests' limit).
     */
    private Copy operand(Object array, int off, int rows, int cols, int ld, boolean isDouble, Copy busy, Copy large) {
        uses++;
        int len = stored(rows, cols, ld);
        if (len > keepMax) {
            operandCopies++;
            if (isDouble) {
                large.doubles = fit(large.doubles, len);
                large.packedLd = put(large.doubles.asBuffer(), (double[]) array, off, rows, cols, ld, len);
            } else {
                large.floats = fit(large.floats, len);
                large.packedLd = put(large.floats.asBuffer(), (float[]) array, off, rows, cols, ld, len);
            }
            return large;
        }
        Copy victim = null;
        for (Copy c : copies) {
            if (c.holds(array, off, rows, cols, ld) && (isDouble ? c.doubles != null : c.floats != null)) {
                c.lastUse = uses;
                return c;
            }
            if (c != busy && (victim == null || c.lastUse < victim.lastUse)) {
                victim = c;
            }
        }
        if (victim.array != null) {
            held--;
        }
        victim.array = null; // until the copy below has completed
        operandCopies++;
        if (isDouble) {
            victim.doubles = fit(victim.doubles, len);
            victim.packedLd = put(victim.doubles.asBuffer(), (double[]) array, off, rows, cols, ld, len);
        } else {
            victim.floats = fit(victim.floats, len);
            victim.packedLd = put(victim.floats.asBuffer(), (float[]) array, off, rows, cols, ld, len);
        }
        victim.array = array;
        victim.offset = off;
        victim.rows = rows;
        victim.cols = cols;
        victim.ld = ld;
        victim.span = (rows - 1) * ld + cols;
        victim.lastUse = uses;
        held++;
        return victim;
    }

    /** How many operand copies were made. */
    long operandCopies() {
        return operandCopies;
    }

    /**
     * Forgets every kept copy of elements {@code [offset, offset + length)} of {@code array}: they may be written.
     * Cheap when nothing is kept.
     *
     * @param array  a backend's storage array
     * @param offset the first element that may change
     * @param length how many
     */
    void written(Object array, int offset, int length) {
        if (held == 0) {
            return;
        }
        for (Copy c : copies) {
            if (c.array == array && offset < c.offset + c.span && c.offset < offset + length) {
                c.array = null;
                held--;
            }
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
        for (Copy c : copies) {
            c.close();
        }
        largeA.close();
        largeB.close();
        held = 0;
        if (fc != null) {
            fc.close();
        }
        if (dc != null) {
            dc.close();
        }
        fc = null;
        dc = null;
    }
}

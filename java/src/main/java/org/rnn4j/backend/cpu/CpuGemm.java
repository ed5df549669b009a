package org.rnn4j.backend.cpu;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU backends' GEMM, row-major, with the semantics documented on {@link org.rnn4j.backend.Backend#gemm}:
 * {@code C = alpha * op(A) * op(B) + beta * C}, {@code C} not read when {@code beta == 0}. Each element of the product
 * is summed over {@code p} in ascending order, the order the seeds' numbers were reproduced with; any faster version
 * must keep that order per element so that results stay bit-for-bit the same.
 *
 * <p>How it goes fast while keeping that order:
 * <ul>
 *   <li>op(B) is copied, a strip of at most {@link #stripWidth} columns at a time, into one array per row {@code p}
 *       ({@code packB}), whatever the transpose flag, and each row of the product is accumulated into an array of its
 *       own indexed the same way. The inner loops then index every array with the bare loop variable, the one shape
 *       C2 (JDK 17) auto-vectorises; {@code acc[j] += a * b[off + j]} stays scalar.</li>
 *   <li>Register/cache blocking: three rows of C at a time ({@link #MR}) share each loaded row of B, two values of
 *       {@code p} per pass; each element still gets {@code acc = 0; acc += a_p * b_p} for {@code p} ascending, as
 *       separate multiply and add (Java never fuses), then {@code alpha * acc (+ beta * c)}.</li>
 *   <li>Threads: products of at least {@link #PARALLEL_MIN_WORK} multiply-adds are split by rows of C (and the
 *       packing by rows of op(B)) among up to {@code rnn4j.cpu.threads} tasks (default: the available processors) on
 *       a shared pool of daemon threads, created on first use. Every element is computed by one task in the same
 *       order, so results do not depend on the number of threads.</li>
 * </ul>
 *
 * <p>One instance per backend, used by one thread at a time: it owns the scratch space (the packed strip and one set
 * of accumulator rows per task), grown on demand, so no call allocates in steady state.
 */
final class CpuGemm {

    /** System property: how many threads a GEMM may use (default: {@code Runtime.availableProcessors()}). */
    static final String THREADS_PROPERTY = "rnn4j.cpu.threads";

    /** Rows of C computed together by a micro-kernel. */
    static final int MR = 3;

    /** Products with fewer multiply-adds ({@code m * n * k}) than this stay on the calling thread. */
    static final long PARALLEL_MIN_WORK = 1L << 20;

    /**
     * Products of at most this many multiply-adds take the direct loop: for the seeds' tiny shapes (the RNN's
     * (1 x 2)(2 x 16) at batch 1) packing and strip bookkeeping cost more than the arithmetic.
     */
    static final long SMALL_WORK = 1L << 13;

    /** Packing of fewer elements ({@code k * strip}) than this stays on the calling thread. */
    static final long PARALLEL_MIN_PACK = 1L << 15;

    /** The packed strip holds at most about this many elements ({@code k * width}), unless width hits its floor. */
    static final int STRIP_ELEMENTS = 1 << 21;

    /** Bounds on the strip width (columns of C per strip): long inner loops, scratch bounded. */
    static final int STRIP_MIN = 256;
    static final int STRIP_MAX = 4096;

    /** Columns per tile when packing a transposed B. */
    private static final int PACK_TILE = 64;

    private static final int PHASE_PACK = 0;
    private static final int PHASE_ROWS = 1;

    private static final int DEFAULT_THREADS = configuredThreads();

    /**
     * The shared pool, created on first multi-threaded call (holder idiom): fixed daemon threads that never time out.
     * (A ForkJoinPool of parallelism 1 was seen here to stop running submitted tasks after idling between JMH trials,
     * leaving the caller joined forever; a plain fixed pool with a latch has no such state to lose.)
     */
    private static final class Pool {
        private static final AtomicInteger NEXT = new AtomicInteger();
        static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(1, DEFAULT_THREADS - 1), r -> {
            Thread t = new Thread(r, "rnn4j-cpu-gemm-" + NEXT.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private final int threads;
    private final Task[] tasks;

    private double[][] packB64 = new double[0][];
    private double[][][] acc64 = new double[0][][];
    private float[][] packB32 = new float[0][];
    private float[][][] acc32 = new float[0][][];

    // The call in progress (set by gemm, read by the tasks; the arrays are dropped when the call returns).
    private boolean double64;
    private double[] a64;
    private double[] b64;
    private double[] c64;
    private double alpha64;
    private double beta64;
    private float[] a32;
    private float[] b32;
    private float[] c32;
    private float alpha32;
    private float beta32;
    private int m;
    private int n;
    private int k;
    private int ao;
    private int aRow;
    private int aCol;
    private int bo;
    private int bRow;
    private int bCol;
    private int co;
    private int ldc;

    /** Uses up to {@code rnn4j.cpu.threads} threads (default: the available processors). */
    CpuGemm() {
        this(DEFAULT_THREADS);
    }

    /** Uses up to {@code threads} tasks (the test hook: results must not depend on it). */
    CpuGemm(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        this.threads = threads;
        this.tasks = new Task[threads];
        for (int t = 1; t < threads; t++) {
            tasks[t] = new Task(t);
        }
    }

    /** The thread count from {@code rnn4j.cpu.threads}, or the available processors when unset or invalid. */
    static int configuredThreads() {
        int cores = Math.max(1, Runtime.getRuntime().availableProcessors());
        String s = System.getProperty(THREADS_PROPERTY);
        if (s == null || s.isBlank()) {
            return cores;
        }
        try {
            int t = Integer.parseInt(s.trim());
            return t >= 1 ? t : cores;
        } catch (NumberFormatException e) {
            return cores;
        }
    }

    /** The number of threads instances made with the default constructor use. */
    static int defaultThreads() {
        return DEFAULT_THREADS;
    }

    /** "1 thread" or "N threads", for the backends' descriptions. */
    static String threadsText() {
        return DEFAULT_THREADS == 1 ? "1 thread" : DEFAULT_THREADS + " threads";
    }

    /** The number of threads this instance uses at most. */
    int threads() {
        return threads;
    }

    /** Columns of C per strip for this shape. */
    static int stripWidth(int n, int k) {
        int w = k <= 0 ? STRIP_MAX : STRIP_ELEMENTS / k;
        w = Math.max(STRIP_MIN, Math.min(STRIP_MAX, w));
        return Math.min(n, w);
    }

    /** {@code C = alpha * op(A) * op(B) + beta * C} on arrays with offsets and leading dimensions, see the class. */
    void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao, int lda,
              double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if ((long) m * n * k <= SMALL_WORK) {
            small64(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
            return;
        }
        int w = stripWidth(n, k);
        ensure64(k, w);
        double64 = true;
        a64 = av;
        b64 = bv;
        c64 = cv;
        alpha64 = alpha;
        beta64 = beta;
        setShape(transA, transB, m, n, k, ao, lda, bo, ldb, co, ldc);
        try {
            runStrips(w);
        } finally {
            a64 = null;
            b64 = null;
            c64 = null;
        }
    }

    /** The direct loop for small products: per element, the same sum in the same order as the blocked path. */
    private void small64(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] av, int ao,
                          int lda, double[] bv, int bo, int ldb, double beta, double[] cv, int co, int ldc) {
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        if (smallAcc64.length < n) {
            smallAcc64 = new double[Math.max(n, 64)];
        }
        double[] acc = smallAcc64;
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

    private double[] smallAcc64 = new double[64];

    /** Copies columns {@code [j0, j0 + jw)} of rows {@code [p0, p1)} of op(B) into {@code packB64[p][0 .. jw)}. */
    private void pack64(int p0, int p1, int j0, int jw) {
        double[] bv = b64;
        double[][] pb = packB64;
        if (bCol == 1) {
            for (int p = p0; p < p1; p++) {
                System.arraycopy(bv, bo + p * bRow + j0, pb[p], 0, jw);
            }
            return;
        }
        // B transposed: op(B)(p, j) = B[j * ldb + p]; go in tiles of columns so the lines read stay in L1.
        for (int jt = 0; jt < jw; jt += PACK_TILE) {
            int jtEnd = Math.min(jw, jt + PACK_TILE);
            for (int p = p0; p < p1; p++) {
                double[] row = pb[p];
                int src = bo + p * bRow + j0 * bCol;
                for (int jj = jt; jj < jtEnd; jj++) {
                    row[jj] = bv[src + jj * bCol];
                }
            }
        }
    }

    /** Rows {@code [i0, i1)} of the current strip (columns {@code [j0, j0 + jw)}), with scratch set {@code slot}. */
    private void rows64(int slot, int i0, int i1, int j0, int jw) {
        double[][] acc = acc64[slot];
        double[][] pb = packB64;
        double[] av = a64;
        double[] cv = c64;
        double alpha = alpha64;
        double beta = beta64;
        for (int i = i0; i < i1; i += MR) {
            int rows = Math.min(MR, i1 - i);
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

    private void ensure64(int k, int w) {
        if (packB64.length < k) {
            packB64 = Arrays.copyOf(packB64, k);
        }
        for (int p = 0; p < k; p++) {
            if (packB64[p] == null || packB64[p].length < w) {
                packB64[p] = new double[w];
            }
        }
        if (acc64.length < threads) {
            acc64 = Arrays.copyOf(acc64, threads);
        }
        for (int t = 0; t < threads; t++) {
            if (acc64[t] == null || acc64[t][0].length < w) {
                acc64[t] = new double[MR][w];
            }
        }
    }

    private void setShape(boolean transA, boolean transB, int m, int n, int k, int ao, int lda, int bo, int ldb,
                          int co, int ldc) {
        // Strides that turn op(A)(i, p) and op(B)(p, j) into array indices whatever the transpose flags.
        this.m = m;
        this.n = n;
        this.k = k;
        this.ao = ao;
        this.aRow = transA ? 1 : lda;
        this.aCol = transA ? lda : 1;
        this.bo = bo;
        this.bRow = transB ? 1 : ldb;
        this.bCol = transB ? ldb : 1;
        this.co = co;
        this.ldc = ldc;
    }

    /** Each strip of columns: pack it, then compute all its rows; split among tasks when large enough. */
    private void runStrips(int w) {
        long work = (long) m * n * Math.max(k, 1);
        boolean parallel = threads > 1 && work >= PARALLEL_MIN_WORK;
        int rowBlocks = (m + MR - 1) / MR;
        for (int j0 = 0; j0 < n; j0 += w) {
            int jw = Math.min(w, n - j0);
            int packTasks = parallel && (long) k * jw >= PARALLEL_MIN_PACK ? Math.min(threads, k) : 1;
            run(PHASE_PACK, packTasks, j0, jw);
            int rowTasks = parallel ? Math.min(threads, rowBlocks) : 1;
            run(PHASE_ROWS, rowTasks, j0, jw);
        }
    }

    /** Runs {@code count} tasks of a phase: task 0 on the calling thread, the others on the pool; waits for all. */
    private void run(int phase, int count, int j0, int jw) {
        if (count <= 1) {
            work(phase, 0, 1, j0, jw);
            return;
        }
        CountDownLatch done = new CountDownLatch(count - 1);
        for (int t = 1; t < count; t++) {
            Task task = tasks[t];
            task.set(phase, count, j0, jw, done);
            Pool.POOL.execute(task);
        }
        RuntimeException failure = null;
        try {
            work(phase, 0, count, j0, jw);
        } catch (RuntimeException | Error e) {
            failure = e instanceof RuntimeException ? (RuntimeException) e : new RuntimeException(e);
        }
        // Wait for every task, even after a failure, so that none still writes when the call returns.
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        for (int t = 1; t < count; t++) {
            Throwable e = tasks[t].failure;
            if (e != null && failure == null) {
                failure = e instanceof RuntimeException ? (RuntimeException) e : new RuntimeException(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Share {@code t} of {@code count} of a phase: a range of rows of op(B) to pack, or of row blocks of C. */
    private void work(int phase, int t, int count, int j0, int jw) {
        if (phase == PHASE_PACK) {
            int p0 = (int) ((long) k * t / count);
            int p1 = (int) ((long) k * (t + 1) / count);
            if (double64) {
                pack64(p0, p1, j0, jw);
            } else {
                pack32(p0, p1, j0, jw);
            }
        } else {
            int rowBlocks = (m + MR - 1) / MR;
            int i0 = (int) ((long) rowBlocks * t / count) * MR;
            int i1 = Math.min(m, (int) ((long) rowBlocks * (t + 1) / count) * MR);
            if (double64) {
                rows64(t, i0, i1, j0, jw);
            } else {
                rows32(t, i0, i1, j0, jw);
            }
        }
    }

    /** A reusable pool task: one share of a phase; counts down the call's latch when done, failed or not. */
    private final class Task implements Runnable {
        private final int index;
        private int phase;
        private int count;
        private int j0;
        private int jw;
        private CountDownLatch done;
        private volatile Throwable failure;

        Task(int index) {
            this.index = index;
        }

        void set(int phase, int count, int j0, int jw, CountDownLatch done) {
            this.phase = phase;
            this.count = count;
            this.j0 = j0;
            this.jw = jw;
            this.done = done;
            this.failure = null;
        }

        @Override
        public void run() {
            try {
                work(phase, index, count, j0, jw);
            } catch (Throwable e) {
                failure = e;
            } finally {
                done.countDown();
            }
        }
    }

    /** The same in float; {@code alpha} and {@code beta} arrive rounded to float (a beta that rounds to 0 is 0). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao, int lda,
              float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if ((long) m * n * k <= SMALL_WORK) {
            small32(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
            return;
        }
        int w = stripWidth(n, k);
        ensure32(k, w);
        double64 = false;
        a32 = av;
        b32 = bv;
        c32 = cv;
        alpha32 = alpha;
        beta32 = beta;
        setShape(transA, transB, m, n, k, ao, lda, bo, ldb, co, ldc);
        try {
            runStrips(w);
        } finally {
            a32 = null;
            b32 = null;
            c32 = null;
        }
    }

    /** The direct loop for small products: per element, the same sum in the same order as the blocked path. */
    private void small32(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao,
                          int lda, float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        int aRow = transA ? 1 : lda;
        int aCol = transA ? lda : 1;
        int bRow = transB ? 1 : ldb;
        int bCol = transB ? ldb : 1;
        if (smallAcc32.length < n) {
            smallAcc32 = new float[Math.max(n, 64)];
        }
        float[] acc = smallAcc32;
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

    private float[] smallAcc32 = new float[64];

    /** Copies columns {@code [j0, j0 + jw)} of rows {@code [p0, p1)} of op(B) into {@code packB32[p][0 .. jw)}. */
    private void pack32(int p0, int p1, int j0, int jw) {
        float[] bv = b32;
        float[][] pb = packB32;
        if (bCol == 1) {
            for (int p = p0; p < p1; p++) {
                System.arraycopy(bv, bo + p * bRow + j0, pb[p], 0, jw);
            }
            return;
        }
        // B transposed: op(B)(p, j) = B[j * ldb + p]; go in tiles of columns so the lines read stay in L1.
        for (int jt = 0; jt < jw; jt += PACK_TILE) {
            int jtEnd = Math.min(jw, jt + PACK_TILE);
            for (int p = p0; p < p1; p++) {
                float[] row = pb[p];
                int src = bo + p * bRow + j0 * bCol;
                for (int jj = jt; jj < jtEnd; jj++) {
                    row[jj] = bv[src + jj * bCol];
                }
            }
        }
    }

    /** Rows {@code [i0, i1)} of the current strip (columns {@code [j0, j0 + jw)}), with scratch set {@code slot}. */
    private void rows32(int slot, int i0, int i1, int j0, int jw) {
        float[][] acc = acc32[slot];
        float[][] pb = packB32;
        float[] av = a32;
        float[] cv = c32;
        float alpha = alpha32;
        float beta = beta32;
        for (int i = i0; i < i1; i += MR) {
            int rows = Math.min(MR, i1 - i);
            int ia = ao + i * aRow;
            if (rows == 3) {
                kernel3(acc[0], acc[1], acc[2], av, ia, aRow, aCol, k, pb, jw);
            } else if (rows == 2) {
                kernel2(acc[0], acc[1], av, ia, aRow, aCol, k, pb, jw);
            } else {
                kernel1(acc[0], av, ia, aCol, k, pb, jw);
            }
            for (int r = 0; r < rows; r++) {
                float[] ar = acc[r];
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


    private static void kernel3(float[] c0, float[] c1, float[] c2, float[] av, int ia, int aRow, int aCol,
                                int k, float[][] b, int w) {
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
            float x0 = av[a0];
            float x1 = av[a0 + aCol];
            float y0 = av[a1];
            float y1 = av[a1 + aCol];
            float z0 = av[a2];
            float z1 = av[a2 + aCol];
            float[] b0 = b[p];
            float[] b1 = b[p + 1];
            for (int j = 0; j < w; j++) {
                c0[j] = (c0[j] + x0 * b0[j]) + x1 * b1[j];
                c1[j] = (c1[j] + y0 * b0[j]) + y1 * b1[j];
                c2[j] = (c2[j] + z0 * b0[j]) + z1 * b1[j];
            }
        }
        if (p < k) {
            int a0 = ia + p * aCol;
            float x0 = av[a0];
            float y0 = av[a0 + aRow];
            float z0 = av[a0 + 2 * aRow];
            float[] b0 = b[p];
            for (int j = 0; j < w; j++) {
                c0[j] += x0 * b0[j];
                c1[j] += y0 * b0[j];
                c2[j] += z0 * b0[j];
            }
        }
    }

    private static void kernel2(float[] c0, float[] c1, float[] av, int ia, int aRow, int aCol,
                                int k, float[][] b, int w) {
        for (int j = 0; j < w; j++) {
            c0[j] = 0;
            c1[j] = 0;
        }
        int p = 0;
        for (; p + 1 < k; p += 2) {
            int a0 = ia + p * aCol;
            int a1 = a0 + aRow;
            float x0 = av[a0];
            float x1 = av[a0 + aCol];
            float y0 = av[a1];
            float y1 = av[a1 + aCol];
            float[] b0 = b[p];
            float[] b1 = b[p + 1];
            for (int j = 0; j < w; j++) {
                c0[j] = (c0[j] + x0 * b0[j]) + x1 * b1[j];
                c1[j] = (c1[j] + y0 * b0[j]) + y1 * b1[j];
            }
        }
        if (p < k) {
            int a0 = ia + p * aCol;
            float x0 = av[a0];
            float y0 = av[a0 + aRow];
            float[] b0 = b[p];
            for (int j = 0; j < w; j++) {
                c0[j] += x0 * b0[j];
                c1[j] += y0 * b0[j];
            }
        }
    }

    private static void kernel1(float[] c0, float[] av, int ia, int aCol, int k, float[][] b, int w) {
        for (int j = 0; j < w; j++) {
            c0[j] = 0;
        }
        int p = 0;
        for (; p + 3 < k; p += 4) {
            int a0 = ia + p * aCol;
            float x0 = av[a0];
            float x1 = av[a0 + aCol];
            float x2 = av[a0 + 2 * aCol];
            float x3 = av[a0 + 3 * aCol];
            float[] b0 = b[p];
            float[] b1 = b[p + 1];
            float[] b2 = b[p + 2];
            float[] b3 = b[p + 3];
            for (int j = 0; j < w; j++) {
                c0[j] = (((c0[j] + x0 * b0[j]) + x1 * b1[j]) + x2 * b2[j]) + x3 * b3[j];
            }
        }
        for (; p < k; p++) {
            float x0 = av[ia + p * aCol];
            float[] b0 = b[p];
            for (int j = 0; j < w; j++) {
                c0[j] += x0 * b0[j];
            }
        }
    }

    private void ensure32(int k, int w) {
        if (packB32.length < k) {
            packB32 = Arrays.copyOf(packB32, k);
        }
        for (int p = 0; p < k; p++) {
            if (packB32[p] == null || packB32[p].length < w) {
                packB32[p] = new float[w];
            }
        }
        if (acc32.length < threads) {
            acc32 = Arrays.copyOf(acc32, threads);
        }
        for (int t = 0; t < threads; t++) {
            if (acc32[t] == null || acc32[t][0].length < w) {
                acc32[t] = new float[MR][w];
            }
        }
    }

    /** Drops the scratch space (when the backend closes). */
    void release() {
        packB64 = new double[0][];
        acc64 = new double[0][][];
        packB32 = new float[0][];
        acc32 = new float[0][][];
    }
}

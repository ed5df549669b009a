package org.rnn4j.backend.cpu;

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
 * <p>One instance per backend, used by one thread at a time: its kernels own the scratch space (the packed strip and
 * one set of accumulator rows per task), grown on demand, so no call allocates in steady state.
 *
 * <p><b>Two routes.</b> The Java GEMM above is the reference: the seeds' float64 runs use it, and its results are
 * exactly the plain loop's. Large products may instead take the fast route, OpenBLAS ({@link OpenBlasGemm}), chosen
 * per call by size: with {@value #ROUTE_ENV} unset (or {@code auto}), products of at least {@link #FAST_MIN_WORK}
 * multiply-adds ({@code m * n * k}) that also do at least {@link #FAST_MIN_INTENSITY} of them per element they copy,
 * in either precision, go to OpenBLAS; smaller or thinner ones (every product of the seeds' networks, an LSTM step at
 * batch 1) stay in Java. Loading OpenBLAS costs a third of a second, so it is loaded only once it is worth it, as in
 * the ski-rental problem: large products stay in Java until together they have done {@link #LOAD_WORTH_WORK}
 * multiply-adds (about what the Java GEMM does in the time of the load), then OpenBLAS is loaded and takes them from
 * there on; once loaded in the JVM (by any backend), it takes them at once. A short run with a few large products
 * (the RNN's accuracy pass over all 65536 pairs) thus never pays for the load. {@code java}
 * forces the Java GEMM for every product, {@code fast} OpenBLAS for every product with {@code k >= 1} (an error when
 * it cannot load). Where OpenBLAS cannot load in {@code auto} (a platform without its natives), one line on stderr
 * says so and the Java GEMM serves every product.
 *
 * <p>This class is the precision-neutral half: the thresholds, the strips, the split into tasks and the pool. The
 * arithmetic is in {@link CpuGemmKernels64}, written by hand, and {@link CpuGemmKernels32}, generated from it by
 * {@code org.rnn4j.codegen.GenerateFloat32} (see the generated file's header); both extend {@link Kernels}.
 */
final class CpuGemm {

    /** System property: how many threads a GEMM may use (default: {@code Runtime.availableProcessors()}). */
    static final String THREADS_PROPERTY = "rnn4j.cpu.threads";

    /** Environment variable choosing the GEMM route: {@code auto} (the default), {@code java} or {@code fast}. */
    static final String ROUTE_ENV = "RNN4J_CPU_GEMM";

    /** The routes, see the class. */
    enum Route {
        AUTO, JAVA, FAST
    }

    /**
     * In {@link Route#AUTO}, products of at least this many multiply-adds take OpenBLAS: about 64 x 64 x 64, where
     * OpenBLAS, copies included, overtakes the Java GEMM here (see the README's performance section).
     */
    static final long FAST_MIN_WORK = 1L << 18;

    /**
     * In {@link Route#AUTO}, the multiply-adds a product must do per element it copies ({@code m*k + k*n + m*n}: the
     * operands into off-heap memory, C back) to take OpenBLAS. A thin product such as an LSTM step at batch 1,
     * {@code (1 x 256)(256 x 1024)}, does one multiply-add per copied weight and ran 2x slower through OpenBLAS than
     * in Java (float32, {@code train lstm --cell standard --hidden 256 --input-dim 256}); 64 x 64 x 64 does 21.
     */
    static final long FAST_MIN_INTENSITY = 16;

    /**
     * In {@link Route#AUTO}, the multiply-adds that large products do in Java before OpenBLAS is loaded: 2^31, about
     * 0.1-0.2 s of the Java GEMM here, the order of the load's own cost (see the class).
     */
    static final long LOAD_WORTH_WORK = 1L << 31;

    /** Set when OpenBLAS has loaded in this JVM: from then on its cost is sunk and large products take it at once. */
    private static volatile boolean fastLoaded;

    /** Set once the first failure to load OpenBLAS in {@code auto} has been reported, so that it is said once. */
    private static final java.util.concurrent.atomic.AtomicBoolean FAST_WARNED =
            new java.util.concurrent.atomic.AtomicBoolean();

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
    static final int PACK_TILE = 64;

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

    private final CpuGemmKernels64 kernels64 = new CpuGemmKernels64(this);
    private final CpuGemmKernels32 kernels32 = new CpuGemmKernels32(this);

    /** The kernels of the call in progress (set by {@code runStrips}, read by the tasks). */
    private Kernels current;

    private final Route route;
    private final long fastMinWork;
    private final long fastMinIntensity;
    /** The fast route, made on its first use; stays null (and {@code fastFailed} true) when OpenBLAS cannot load. */
    private OpenBlasGemm fast;
    private boolean fastFailed;
    /** Multiply-adds of the large products done in Java so far, while OpenBLAS was not yet worth loading. */
    private long deferredWork;
    private final long loadWorthWork;
    /**
     * Says that elements {@code [offset, offset + length)} of a storage array may be written: the fast route forgets
     * its kept copies of them. The backends call it for every operand an operation may write.
     *
     * @param array  the backend's storage array
     * @param offset the first element
     * @param length how many
     */
    void written(Object array, int offset, int length) {
        if (fast != null) {
            fast.written(array, offset, length);
        }
    }

    /** How many products took the fast route (for the tests). */
    private long fastCalls;

    /**
     * Uses up to {@code rnn4j.cpu.threads} threads (default: the available processors), the route from
     * {@value #ROUTE_ENV}.
     *
     * @throws IllegalArgumentException when {@value #ROUTE_ENV} is not auto, java or fast
     * @throws IllegalStateException when it is fast and OpenBLAS cannot load here
     */
    CpuGemm() {
        this(DEFAULT_THREADS, routeFromEnvironment(System.getenv(ROUTE_ENV)), FAST_MIN_WORK, LOAD_WORTH_WORK,
                FAST_MIN_INTENSITY);
    }

    /** The Java GEMM only, on up to {@code threads} tasks (the test hook: results must not depend on it). */
    CpuGemm(int threads) {
        this(threads, Route.JAVA, FAST_MIN_WORK, 0);
    }

    /**
     * Up to {@code threads} tasks for the Java GEMM, the given route and size threshold.
     *
     * @throws IllegalStateException when {@code route} is FAST and OpenBLAS cannot load here
     */
    CpuGemm(int threads, Route route, long fastMinWork, long loadWorthWork) {
        this(threads, route, fastMinWork, loadWorthWork, 0);
    }

    /**
     * As above, with the least multiply-adds per copied element ({@link #FAST_MIN_INTENSITY}) that {@code auto}
     * requires of a product before it takes OpenBLAS.
     */
    CpuGemm(int threads, Route route, long fastMinWork, long loadWorthWork, long fastMinIntensity) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1: " + threads);
        }
        if (route == Route.FAST) {
            String problem = OpenBlasGemm.problem();
            if (problem != null) {
                throw new IllegalStateException(ROUTE_ENV + "=fast, but " + problem);
            }
        }
        this.route = route;
        this.fastMinWork = fastMinWork;
        this.fastMinIntensity = fastMinIntensity;
        this.loadWorthWork = loadWorthWork;
        this.threads = threads;
        this.tasks = new Task[threads];
        for (int t = 1; t < threads; t++) {
            tasks[t] = new Task(t);
        }
    }

    /**
     * The route named by {@value #ROUTE_ENV}'s value; AUTO when unset or blank.
     *
     * @throws IllegalArgumentException for any other value, naming the variable
     */
    static Route routeFromEnvironment(String value) {
        if (value == null || value.isBlank()) {
            return Route.AUTO;
        }
        switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "auto":
                return Route.AUTO;
            case "java":
                return Route.JAVA;
            case "fast":
                return Route.FAST;
            default:
                throw new IllegalArgumentException(ROUTE_ENV + " must be auto, java or fast, not '" + value + "'");
        }
    }

    /** How many products this instance has sent to OpenBLAS. */
    long fastCalls() {
        return fastCalls;
    }

    /** How many operand copies the fast route has made (kept ones reused are not counted; for the tests). */
    long fastOperandCopies() {
        return fast == null ? 0 : fast.operandCopies();
    }

    /** The route this instance takes. */
    Route route() {
        return route;
    }

    /** How this instance computes products, for the backends' descriptions. */
    String describe() {
        String java = "Java GEMM on " + threadsText();
        switch (route) {
            case JAVA:
                return java;
            case FAST:
                return "OpenBLAS GEMM on " + threadsText();
            default:
                return fastFailed ? java + " (OpenBLAS unavailable)"
                        : java + ", OpenBLAS from " + fastMinWork + " multiply-adds";
        }
    }

    /** Whether this product takes OpenBLAS (loading it when it has become worth it, see the class). */
    private boolean takesFast(int m, int n, int k) {
        if (route == Route.JAVA || m <= 0 || n <= 0 || k <= 0) {
            return false;
        }
        long work = (long) m * n * k;
        if (route == Route.AUTO && (work < fastMinWork
                || work < fastMinIntensity * ((long) m * k + (long) k * n + (long) m * n))) {
            return false; // too small, or too thin to pay for its copies
        }
        if (route == Route.AUTO && fast == null && !fastLoaded && deferredWork < loadWorthWork) {
            deferredWork += work;
            return false;
        }
        if (fast == null) {
            if (fastFailed) {
                return false;
            }
            String problem = OpenBlasGemm.problem();
            if (problem != null) {
                fastFailed = true;
                if (FAST_WARNED.compareAndSet(false, true)) {
                    System.err.println("rnn4j: the Java GEMM serves every product: " + problem + " (set " + ROUTE_ENV
                            + "=java to say so and silence this)");
                }
                return false;
            }
            fastLoaded = true;
            fast = new OpenBlasGemm();
        }
        fastCalls++;
        return true;
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
        if (takesFast(m, n, k)) {
            fast.gemm(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
            return;
        }
        kernels64.gemm(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
    }

    /** The same in float; {@code alpha} and {@code beta} arrive rounded to float (a beta that rounds to 0 is 0). */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] av, int ao, int lda,
              float[] bv, int bo, int ldb, float beta, float[] cv, int co, int ldc) {
        if (takesFast(m, n, k)) {
            fast.gemm(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
            return;
        }
        kernels32.gemm(transA, transB, m, n, k, alpha, av, ao, lda, bv, bo, ldb, beta, cv, co, ldc);
    }

    /**
     * One precision's kernels, as the scheduler sees them: the shape of the call in progress (strides that turn
     * op(A)(i, p) and op(B)(p, j) into array indices whatever the transpose flags), packing a range of rows of op(B)
     * for a strip, and computing a range of rows of C for a strip. The arrays, alpha, beta and the scratch space are
     * the subclass's, in its element type.
     */
    abstract static class Kernels {
        final CpuGemm scheduler;
        int m;
        int n;
        int k;
        int ao;
        int aRow;
        int aCol;
        int bo;
        int bRow;
        int bCol;
        int co;
        int ldc;

        Kernels(CpuGemm scheduler) {
            this.scheduler = scheduler;
        }

        final void setShape(boolean transA, boolean transB, int m, int n, int k, int ao, int lda, int bo, int ldb,
                            int co, int ldc) {
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

        /** Copies columns {@code [j0, j0 + jw)} of rows {@code [p0, p1)} of op(B) into the packed strip. */
        abstract void pack(int p0, int p1, int j0, int jw);

        /** Rows {@code [i0, i1)} of C in the strip of columns {@code [j0, j0 + jw)}, with scratch set {@code slot}. */
        abstract void rows(int slot, int i0, int i1, int j0, int jw);

        /** Drops the scratch space. */
        abstract void release();
    }

    /**
     * Each strip of columns of the shape set on {@code kernels}: pack it, then compute all its rows; split among tasks
     * when large enough.
     */
    void runStrips(Kernels kernels, int w) {
        int m = kernels.m;
        int n = kernels.n;
        int k = kernels.k;
        long work = (long) m * n * Math.max(k, 1);
        boolean parallel = threads > 1 && work >= PARALLEL_MIN_WORK;
        int rowBlocks = (m + MR - 1) / MR;
        current = kernels;
        try {
            for (int j0 = 0; j0 < n; j0 += w) {
                int jw = Math.min(w, n - j0);
                int packTasks = parallel && (long) k * jw >= PARALLEL_MIN_PACK ? Math.min(threads, k) : 1;
                run(PHASE_PACK, packTasks, j0, jw);
                int rowTasks = parallel ? Math.min(threads, rowBlocks) : 1;
                run(PHASE_ROWS, rowTasks, j0, jw);
            }
        } finally {
            current = null;
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
        Kernels kernels = current;
        if (phase == PHASE_PACK) {
            int k = kernels.k;
            int p0 = (int) ((long) k * t / count);
            int p1 = (int) ((long) k * (t + 1) / count);
            kernels.pack(p0, p1, j0, jw);
        } else {
            int m = kernels.m;
            int rowBlocks = (m + MR - 1) / MR;
            int i0 = (int) ((long) rowBlocks * t / count) * MR;
            int i1 = Math.min(m, (int) ((long) rowBlocks * (t + 1) / count) * MR);
            kernels.rows(t, i0, i1, j0, jw);
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

    /** Drops the scratch space (when the backend closes). */
    void release() {
        kernels64.release();
        kernels32.release();
        if (fast != null) {
            fast.release();
        }
    }
}

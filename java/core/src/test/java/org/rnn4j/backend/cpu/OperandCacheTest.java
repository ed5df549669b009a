package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * {@link OpenBlasGemm} keeps off-heap copies of operands and reuses them while their source is unchanged: the
 * recurrent weights, read by every step's product. These tests make products read an operand again after every kind
 * of write to it (an operation's output, an upload, an optimizer step over the whole arena, a write through a view
 * that overlaps part of it, a product's own C) and require the new values, compared with a plain double-precision
 * product; and they require that an unchanged operand is not copied again.
 */
class OperandCacheTest {

    private static final int M = 16;
    private static final int N = 24;
    private static final int K = 20;

    /** Both precisions, every product on OpenBLAS. */
    private static Backend backend(boolean f64) {
        Assumptions.assumeTrue(OpenBlasGemm.problem() == null, () -> "OpenBLAS cannot load here: "
                + OpenBlasGemm.problem());
        CpuGemm gemm = new CpuGemm(1, CpuGemm.Route.FAST, 1, 0);
        return f64 ? new CpuBackend64(gemm, 0) : new CpuBackend32(gemm, 0);
    }

    private static CpuGemm gemmOf(Backend b) {
        return b instanceof CpuBackend64 b64 ? b64.gemm() : ((CpuBackend32) b).gemm();
    }

    private static double[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }

    /** {@code X (M, K) W^T} with {@code W (N, K)}, in double. */
    private static double[] product(double[] x, double[] w) {
        double[] c = new double[M * N];
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int p = 0; p < K; p++) {
                    s += x[i * K + p] * w[j * K + p];
                }
                c[i * N + j] = s;
            }
        }
        return c;
    }

    private static void assertProduct(double[] want, double[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), what + ": element " + i);
        }
    }

    /**
     * Runs {@code C = X W^T}, applies {@code change} (which changes W and returns its new values), runs the product
     * again and requires the new W's product.
     */
    private static void productSeesChange(boolean f64, String what, Function<Ctx, double[]> change) {
        try (Backend b = backend(f64)) {
            Ctx ctx = new Ctx(b);
            b.gemm(false, true, M, N, K, 1, ctx.x, K, ctx.w, K, 0, ctx.c, N);
            assertProduct(product(ctx.xv, ctx.wv), b.download(ctx.c), what + ", before");
            double[] newW = change.apply(ctx);
            b.gemm(false, true, M, N, K, 1, ctx.x, K, ctx.w, K, 0, ctx.c, N);
            assertProduct(product(ctx.xv, newW), b.download(ctx.c), what + ", after");
        }
    }

    /** W is a view into a larger arena, as a layer's weights are, with other tensors before and after it. */
    private static final class Ctx {
        final Backend b;
        final double[] xv = random(M * K, 1);
        final double[] wv = random(N * K, 2);
        final Buffer arena;
        final Buffer w;
        final Buffer x;
        final Buffer c;
        static final int BEFORE = 7;
        static final int AFTER = 5;

        Ctx(Backend b) {
            this.b = b;
            arena = b.allocate(BEFORE + N * K + AFTER);
            w = arena.slice(BEFORE, N * K);
            b.upload(wv, w);
            x = b.allocate(M * K);
            b.upload(xv, x);
            c = b.allocate(M * N);
        }
    }

    @ParameterizedTest(name = "float64 {0}")
    @ValueSource(booleans = {true, false})
    void anUploadIsSeen(boolean f64) {
        productSeesChange(f64, "upload", ctx -> {
            double[] v = random(N * K, 3);
            ctx.b.upload(v, ctx.w);
            return v;
        });
    }

    @ParameterizedTest(name = "float64 {0}")
    @ValueSource(booleans = {true, false})
    void anOptimizerStepOverTheWholeArenaIsSeen(boolean f64) {
        productSeesChange(f64, "sgd over the arena", ctx -> {
            double[] g = random(ctx.arena.length(), 4);
            Buffer grads = ctx.b.allocate(g.length);
            ctx.b.upload(g, grads);
            ctx.b.sgdUpdate(ctx.arena, grads, 0.5);
            double[] v = ctx.wv.clone();
            for (int i = 0; i < v.length; i++) {
                v[i] -= 0.5 * g[Ctx.BEFORE + i];
            }
            return v;
        });
    }

    @ParameterizedTest(name = "float64 {0}")
    @ValueSource(booleans = {true, false})
    void aWriteThroughAnOverlappingViewIsSeen(boolean f64) {
        productSeesChange(f64, "view overlapping W's last row and what follows", ctx -> {
            // The arena's last K + 2 elements: W's last two rows' tails and the tensor after W.
            int len = K + 2 + Ctx.AFTER;
            Buffer tail = ctx.arena.slice(ctx.arena.length() - len, len);
            double[] t = random(len, 5);
            ctx.b.copyMatrix(1, len, upload(ctx.b, t), len, tail, len);
            double[] v = ctx.wv.clone();
            System.arraycopy(t, 0, v, N * K - (K + 2), K + 2);
            return v;
        });
    }

    @ParameterizedTest(name = "float64 {0}")
    @ValueSource(booleans = {true, false})
    void aProductWritingTheOperandIsSeen(boolean f64) {
        productSeesChange(f64, "W as another product's C", ctx -> {
            // W (N, K) = Y (N, 3) Z (3, K), on OpenBLAS as well.
            double[] y = random(N * 3, 6);
            double[] z = random(3 * K, 7);
            ctx.b.gemm(false, false, N, K, 3, 1, upload(ctx.b, y), 3, upload(ctx.b, z), K, 0, ctx.w, K);
            double[] v = new double[N * K];
            for (int i = 0; i < N; i++) {
                for (int j = 0; j < K; j++) {
                    for (int p = 0; p < 3; p++) {
                        v[i * K + j] += y[i * 3 + p] * z[p * K + j];
                    }
                }
            }
            return v;
        });
    }

    @ParameterizedTest(name = "float64 {0}")
    @ValueSource(booleans = {true, false})
    void aWriteBesideTheOperandKeepsItsCopy(boolean f64) {
        try (Backend b = backend(f64)) {
            Ctx ctx = new Ctx(b);
            CpuGemm gemm = gemmOf(b);
            b.gemm(false, true, M, N, K, 1, ctx.x, K, ctx.w, K, 0, ctx.c, N);
            long copies = gemm.fastOperandCopies();
            // the tensors just before and after W change (a layer's biases); W and X do not
            b.upload(random(Ctx.BEFORE, 8), ctx.arena.slice(0, Ctx.BEFORE));
            b.upload(random(Ctx.AFTER, 9), ctx.arena.slice(Ctx.BEFORE + N * K, Ctx.AFTER));
            for (int step = 0; step < 5; step++) {
                b.gemm(false, true, M, N, K, 1, ctx.x, K, ctx.w, K, 1, ctx.c, N);
            }
            assertEquals(copies, gemm.fastOperandCopies(), "X and W are copied once, then reused");
            double[] want = product(ctx.xv, ctx.wv);
            for (int i = 0; i < want.length; i++) {
                want[i] *= 6;
            }
            assertProduct(want, b.download(ctx.c), "six accumulated products");
            assertTrue(gemm.fastCalls() >= 6);
        }
    }

    @org.junit.jupiter.api.Test
    void largeOperandsUseScratchAndAreCopiedEveryTime() {
        Assumptions.assumeTrue(OpenBlasGemm.problem() == null, () -> "OpenBLAS cannot load here: "
                + OpenBlasGemm.problem());
        // A (M x K) = 320 elements, more than the limit of 300: scratch, copied at every call; W (N x K) = 480 too;
        // a small B (K x 2) = 40 is kept.
        OpenBlasGemm g = new OpenBlasGemm(300);
        try {
            float[] a = new float[M * K];
            float[] w = new float[N * K];
            float[] small = new float[K * 2];
            double[] av = random(M * K, 11);
            double[] wv = random(N * K, 12);
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) av[i];
            }
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) wv[i];
            }
            float[] c = new float[M * N];
            for (int round = 0; round < 3; round++) {
                long before = g.operandCopies();
                g.gemm(false, true, M, N, K, 1f, a, 0, K, w, 0, K, 0f, c, 0, N);
                assertEquals(before + 2, g.operandCopies(), "both large operands copied at every call");
                double[] got = new double[c.length];
                for (int i = 0; i < c.length; i++) {
                    got[i] = c[i];
                }
                double[] want = product(floats(av), floats(wv));
                assertProduct(want, got, "large operands, round " + round);
                // a change to a large operand needs no bookkeeping: the next call copies it anyway
                a[0] += 1;
                av[0] = a[0];
            }
            float[] c2 = new float[M * 2];
            g.gemm(false, false, M, 2, K, 1f, a, 0, K, small, 0, 2, 0f, c2, 0, 2);
            long before = g.operandCopies();
            g.gemm(false, false, M, 2, K, 1f, a, 0, K, small, 0, 2, 0f, c2, 0, 2);
            assertEquals(before + 1, g.operandCopies(), "the small B is kept, the large A copied again");
        } finally {
            g.release();
        }
    }

    private static double[] floats(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (float) v[i];
        }
        return r;
    }

    private static Buffer upload(Backend b, double[] v) {
        Buffer buf = b.allocate(v.length);
        b.upload(v, buf);
        return buf;
    }
}

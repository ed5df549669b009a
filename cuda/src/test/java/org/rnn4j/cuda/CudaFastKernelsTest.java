package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.ColumnSums;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.kernels.KernelImages;

/**
 * The fast GEMM kernel and the two-stage sumRows on the device (gpu-tagged; skipped without CUDA), the device
 * counterpart of the host emulation {@code native-kernels/src/test/host/fast_kernels_test.cpp}:
 * <ul>
 *   <li>fast GEMM, both precisions, all transpositions, awkward shapes, aligned and unaligned operands, leading
 *       dimensions wider than needed, {@code beta = 0} over NaN: bit for bit the sequential fused-multiply-add order
 *       ({@link Math#fma} in the precision, p ascending, then {@code alpha * acc} or {@code fma(alpha, acc, beta * c)}),
 *       and within {@code gamma(k + 1) |alpha| sum|ab| + gamma(2) |beta c|} of the exact value, so within that plus the
 *       CPU GEMM's own bound ({@code gamma(k + 2) |alpha| sum|ab| + gamma(2) |beta c|}) of the CPU; columns beyond
 *       {@code n} untouched;</li>
 *   <li>sumRows with one chunk, several, and grown chunks: bit for bit the CPU backend (both follow
 *       {@link ColumnSums}).</li>
 * </ul>
 */
@RequiresCuda
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaFastKernelsTest {

    private final Map<String, Backend> open = new HashMap<>();

    private Backend fast(Precision p) {
        return open.computeIfAbsent("fast " + p, k -> CudaBackendProvider.create(p, GemmChoice.Kind.FAST));
    }

    private Backend cpu(Precision p) {
        return open.computeIfAbsent("cpu " + p, k -> new CpuBackendProvider().create(p));
    }

    @AfterAll
    void closeAll() {
        open.values().forEach(Backend::close);
    }

    static Stream<Arguments> gemmCases() {
        int[] sizes = {1, 7, 65, 127, 300};
        List<Arguments> out = new ArrayList<>();
        int idx = 0;
        for (Precision p : Precision.values()) {
            for (int t = 0; t < 4; t++) {
                for (int m : sizes) {
                    for (int n : sizes) {
                        for (int k : new int[] {0, 1, 7, 64, 65, 300}) {
                            // offset 1 (unaligned) every third case, padded leading dimensions every other
                            out.add(Arguments.of(p, (t & 1) != 0, (t & 2) != 0, m, n, k, idx % 3 == 2 ? 1 : 0,
                                    idx % 2 == 0 ? 0 : 3));
                            idx++;
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    private static double round(Precision p, double v) {
        return p == Precision.FLOAT32 ? (float) v : v;
    }

    private static double fma(Precision p, double a, double b, double c) {
        return p == Precision.FLOAT32 ? Math.fma((float) a, (float) b, (float) c) : Math.fma(a, b, c);
    }

    private static double[] random(SplittableRandom rng, Precision p, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = round(p, rng.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** The roots allocated by {@link #upload}, closed after each test. */
    private final List<Buffer> roots = new ArrayList<>();

    /** {@code data} uploaded at element {@code offset} of a fresh allocation; the view of it. */
    private Buffer upload(Backend b, double[] data, int offset) {
        Buffer all = b.allocate(data.length + offset);
        roots.add(all);
        Buffer view = all.slice(offset, data.length);
        b.upload(data, view);
        return view;
    }

    @org.junit.jupiter.api.AfterEach
    void closeBuffers() {
        roots.forEach(Buffer::close);
        roots.clear();
    }

    @ParameterizedTest(name = "{0} tA={1} tB={2} m={3} n={4} k={5} offset={6} ldPad={7}")
    @MethodSource("gemmCases")
    void fastGemmIsTheSequentialFmaOrderWithinTheBound(Precision p, boolean tA, boolean tB, int m, int n, int k,
                                                       int offset, int ldPad) {
        SplittableRandom rng = new SplittableRandom(m * 1_000_003L + n * 1009L + k * 31L + (tA ? 7 : 0) + (tB ? 3 : 0));
        int lda = Math.max(1, (tA ? m : k) + ldPad);
        int ldb = Math.max(1, (tB ? k : n) + ldPad);
        int ldc = n + 1 + ldPad;
        double[] a = random(rng, p, Math.max(1, (tA ? k : m) * lda));
        double[] b = random(rng, p, Math.max(1, (tB ? n : k) * ldb));
        double[] c = random(rng, p, m * ldc);
        double[][] alphaBeta = {{1, 0}, {round(p, -0.7), 0}, {round(p, 1.3), round(p, -0.5)}, {0.5, 1}};
        for (double[] ab : alphaBeta) {
            double alpha = ab[0];
            double beta = ab[1];
            double[] cIn = c.clone();
            if (beta == 0) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(cIn, i * ldc, i * ldc + n, Double.NaN); // must not be read
                }
            }
            Backend g = fast(p);
            Backend r = cpu(p);
            Buffer ga = upload(g, a, offset);
            Buffer gb = upload(g, b, offset);
            Buffer gc = upload(g, cIn, offset);
            g.gemm(tA, tB, m, n, k, alpha, ga, lda, gb, ldb, beta, gc, ldc);
            double[] got = g.download(gc);
            Buffer ra = upload(r, a, 0);
            Buffer rb = upload(r, b, 0);
            Buffer rc = upload(r, cIn, 0);
            r.gemm(tA, tB, m, n, k, alpha, ra, lda, rb, ldb, beta, rc, ldc);
            double[] exact = r.download(rc);
            double u = p == Precision.FLOAT32 ? 0x1p-24 : 0x1p-53;
            String what = String.format("%s tA=%s tB=%s m=%d n=%d k=%d offset=%d ldPad=%d alpha=%s beta=%s", p, tA, tB,
                    m, n, k, offset, ldPad, alpha, beta);
            int bad = 0;
            StringBuilder shown = new StringBuilder();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < ldc; j++) {
                    int at = i * ldc + j;
                    if (j >= n) {
                        if (Double.doubleToLongBits(got[at]) != Double.doubleToLongBits(cIn[at])) {
                            fail(what + ": C(" + i + ", " + j + ") outside the n columns was written");
                        }
                        continue;
                    }
                    double acc = 0;
                    double mag = 0;
                    for (int q = 0; q < k; q++) {
                        double x = tA ? a[q * lda + i] : a[i * lda + q];
                        double y = tB ? b[j * ldb + q] : b[q * ldb + j];
                        acc = fma(p, x, y, acc);
                        mag += Math.abs(x * y);
                    }
                    double want = beta == 0 ? round(p, alpha * acc) : fma(p, alpha, acc, round(p, beta * cIn[at]));
                    double cTerm = beta == 0 ? 0 : Math.abs(beta * cIn[at]);
                    // fast within gamma(k + 1)|alpha| mag + gamma(2)|beta c| of the exact value, the CPU's
                    // sequential sum without FMA within gamma(k + 2)|alpha| mag + gamma(2)|beta c|
                    double bound = ((gamma(u, k + 1) + gamma(u, k + 2)) * Math.abs(alpha) * mag
                            + 2 * gamma(u, 2) * cTerm) * (1 + 1e-6);
                    boolean sameBits = Double.doubleToLongBits(got[at]) == Double.doubleToLongBits(want);
                    boolean close = Math.abs(got[at] - exact[at]) <= bound;
                    if (!sameBits || !close) {
                        if (bad < 8) {
                            shown.append(String.format("%n  C(%d, %d) got %.17g sequential-fma %.17g cpu %.17g bound %.3g",
                                    i, j, got[at], want, exact[at], bound));
                        }
                        bad++;
                    }
                }
            }
            if (bad > 0) {
                fail(what + ": " + bad + " of " + m * n + " elements wrong; first:" + shown);
            }
            closeBuffers();
        }
    }

    private static double gamma(double u, int j) {
        return j * u / (1 - j * u);
    }

    /** Taller than one grid of the fast kernel (65535 blocks of 128 or 64 rows): it runs in bands of rows. */
    @Test
    void fastGemmRunsTallProductsInBands() {
        for (Precision p : Precision.values()) {
            int m = 65535 * KernelImages.fastGemmTile(p == Precision.FLOAT32) + 3;
            int n = 2;
            int k = 1;
            for (boolean tA : new boolean[] {false, true}) {
                SplittableRandom rng = new SplittableRandom(m);
                double[] a = random(rng, p, m);
                double[] b = random(rng, p, n);
                Backend g = fast(p);
                Buffer ga = upload(g, a, 0);
                Buffer gb = upload(g, b, 0);
                Buffer gc = upload(g, new double[m * n], 0);
                g.gemm(tA, false, m, n, k, 1, ga, tA ? m : 1, gb, n, 0, gc, n);
                double[] got = g.download(gc);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double want = round(p, a[i] * b[j]);
                        if (got[i * n + j] != want) {
                            fail(p + " tA=" + tA + " C(" + i + ", " + j + ") = " + got[i * n + j] + ", want " + want);
                        }
                    }
                }
                closeBuffers();
            }
        }
    }

    static Stream<Arguments> sumShapes() {
        // one chunk; two; 200 chunks (the LSTM bias gradient at T * B = 6400, 4H = 2048); grown chunks (1100 rows x
        // 2^15 columns: 32 chunks of 35 rows, the scratch's limit).
        int[][] shapes = {{32, 7}, {33, 7}, {4099, 3}, {6400, 2048}, {1100, 1 << 15}};
        List<Arguments> out = new ArrayList<>();
        for (Precision p : Precision.values()) {
            for (int[] s : shapes) {
                out.add(Arguments.of(p, s[0], s[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} rows={1} cols={2}")
    @MethodSource("sumShapes")
    void sumRowsIsBitIdenticalToTheCpu(Precision p, int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(rows * 31L + cols);
        double[] src = random(rng, p, rows * cols);
        double[] start = random(rng, p, cols);
        try (Backend cuda = new CudaBackendProvider().create(p)) {
            for (boolean accumulate : new boolean[] {false, true}) {
                double[] got = sum(cuda, rows, cols, src, start, accumulate);
                double[] want = sum(cpu(p), rows, cols, src, start, accumulate);
                for (int j = 0; j < cols; j++) {
                    assertEquals(Double.doubleToLongBits(want[j]), Double.doubleToLongBits(got[j]),
                            () -> p + " " + rows + " x " + cols + " accumulate=" + accumulate + " chunks="
                                    + ColumnSums.chunks(rows, cols));
                }
            }
        }
        assertTrue(ColumnSums.chunks(rows, cols) >= 1);
    }

    private double[] sum(Backend b, int rows, int cols, double[] src, double[] start, boolean accumulate) {
        Buffer s = upload(b, src, 0);
        Buffer d = upload(b, start, 0);
        b.sumRows(rows, cols, s, d, accumulate);
        double[] out = b.download(d);
        closeBuffers();
        return out;
    }
}

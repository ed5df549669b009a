package org.rnn4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.rng.NumpyRandom;

/**
 * Times {@link Backend#gemm} outside JMH, for comparisons with other libraries ({@code bench/scripts/gemm-vs-numpy.sh}).
 *
 * <pre>
 *   GemmTiming [--backend cpu] [--precision float32] [--sizes 128,256,512,1024] [--repeats 7] [--warmup 3]
 *              [--warmup-seconds 1] [--gemm-path default|builtin]
 * </pre>
 *
 * <p>Sizes are those of {@link GemmShape}: {@code N} for the square {@code N x N x N}, or {@code lstm}. Per size it
 * makes packed row-major operands filled uniformly in {@code [-1, 1)}, runs untimed calls (at least {@code warmup},
 * and for at least {@code warmup-seconds}), then times
 * {@code repeats} calls one by one (each followed by {@link Backend#synchronize()}) and prints one line:
 * <pre>
 *   gemm backend=cpu precision=float32 size=128 m=128 n=128 k=128 transB=false repeats=7 median_s=1.234e-04 gflops=3.40
 * </pre>
 */
public final class GemmTiming {

    private GemmTiming() {
    }

    public static void main(String[] args) {
        String backendName = "cpu";
        String precision = "float32";
        String sizes = "128,256,512,1024";
        String path = BenchBackends.PATH_DEFAULT;
        int repeats = 7;
        int warmup = 3;
        double warmupSeconds = 1.0;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--backend":
                        backendName = need(a, v);
                        break;
                    case "--precision":
                        precision = need(a, v);
                        break;
                    case "--sizes":
                        sizes = need(a, v);
                        break;
                    case "--repeats":
                        repeats = positive(a, need(a, v));
                        break;
                    case "--warmup":
                        warmup = Integer.parseInt(need(a, v));
                        if (warmup < 0) {
                            throw new IllegalArgumentException("--warmup must be at least 0, got " + warmup);
                        }
                        break;
                    case "--warmup-seconds":
                        warmupSeconds = Double.parseDouble(need(a, v));
                        if (!(warmupSeconds >= 0)) {
                            throw new IllegalArgumentException("--warmup-seconds must be at least 0, got " + v);
                        }
                        break;
                    case "--gemm-path":
                        path = need(a, v);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown argument " + a);
                }
                i++;
            }
            List<GemmShape> shapes = new ArrayList<>();
            for (String s : sizes.split(",")) {
                shapes.add(GemmShape.parse(s.trim()));
            }
            Precision p = Precision.parse(precision);
            try (Backend backend = BenchBackends.create(backendName, p, path)) {
                System.out.println("# " + backend.description());
                for (GemmShape s : shapes) {
                    double median = time(backend, s, warmup, warmupSeconds, repeats);
                    System.out.printf(Locale.ROOT,
                            "gemm backend=%s precision=%s size=%s m=%d n=%d k=%d transB=%b repeats=%d median_s=%.6e"
                                    + " gflops=%.3f%n",
                            backendName, p.cliName(), s.label(), s.m(), s.n(), s.k(), s.transB(), repeats, median,
                            s.flops() / median / 1e9);
                }
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("GemmTiming: " + e.getMessage());
            System.exit(2);
        }
    }

    /**
     * The median of {@code repeats} timed calls, in seconds, after untimed ones: at least {@code warmup} of them, and
     * more until {@code warmupSeconds} have passed (so that the JIT has compiled the GEMM loops).
     */
    public static double time(Backend backend, GemmShape s, int warmup, double warmupSeconds, int repeats) {
        NumpyRandom rng = new NumpyRandom(0);
        try (Buffer a = backend.allocate(s.m() * s.k());
             Buffer b = backend.allocate(s.k() * s.n());
             Buffer c = backend.allocate(s.m() * s.n())) {
            backend.upload(GemmShape.uniform(rng, s.m() * s.k()), a);
            backend.upload(GemmShape.uniform(rng, s.k() * s.n()), b);
            backend.synchronize();
            long warmStart = System.nanoTime();
            for (int i = 0; i < warmup || System.nanoTime() - warmStart < warmupSeconds * 1e9; i++) {
                s.run(backend, a, b, c);
                backend.synchronize();
            }
            double[] t = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long start = System.nanoTime();
                s.run(backend, a, b, c);
                backend.synchronize();
                t[i] = (System.nanoTime() - start) / 1e9;
            }
            Arrays.sort(t);
            return repeats % 2 == 1 ? t[repeats / 2] : (t[repeats / 2 - 1] + t[repeats / 2]) / 2;
        }
    }

    private static String need(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }

    private static int positive(String option, String value) {
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a whole number, got '" + value + "'");
        }
        if (n < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + n);
        }
        return n;
    }
}

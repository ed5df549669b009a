package org.rnn4j.bench;

import java.util.Locale;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Precision;
import org.rnn4j.rng.NumpyRandom;

/**
 * Times the matrix products of one standard-cell LSTM training iteration alone ({@link LstmTrainingBench}'s, with the
 * shapes, transposes and betas {@code net.LstmLayer} issues), to say how much of {@link LstmTiming}'s iteration is
 * GEMM: {@code bench/scripts/torch_vs_rnn4j.py} prints it beside the step.
 *
 * <pre>
 *   StepProducts BACKEND PRECISION SIZE BATCH STEPS REPEATS
 * </pre>
 *
 * With {@code X = H = SIZE}, {@code B = BATCH}, {@code T = STEPS}: the input projection {@code (T B, 4H, X)}, the
 * {@code T - 1} recurrent products {@code (B, 4H, H)} accumulating, the {@code T - 1} backward products
 * {@code (B, H, 4H)} accumulating, and the weight gradients {@code (4H, X, T B)} and {@code (4H, H, (T - 1) B)}, each
 * recurrent product on the same weight buffer as in training. Warm-up as {@link LstmTiming}; prints one line:
 * {@code products backend=cpu precision=float32 size=256 batch=64 steps=50 repeats=7 median_s=... gflops=...}.
 */
public final class StepProducts {

    private StepProducts() {
    }

    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println("usage: StepProducts BACKEND PRECISION SIZE BATCH STEPS REPEATS");
            System.exit(2);
        }
        Precision precision = Timing.precision("StepProducts", args[1]);
        int h = Timing.positive("StepProducts", "SIZE", args[2]);
        int b = Timing.positive("StepProducts", "BATCH", args[3]);
        int t = Timing.positive("StepProducts", "STEPS", args[4]);
        int repeats = Timing.positive("StepProducts", "REPEATS", args[5]);
        int g4 = GateLayout.GATES * h;
        int rows = t * b;
        try (Backend be = Timing.backend("StepProducts", args[0], precision)) {
            NumpyRandom rng = new NumpyRandom(0);
            Buffer x = filled(be, rng, rows * h);       // (T B, X) inputs
            Buffer hs = filled(be, rng, rows * h);      // (T B, H) outputs
            Buffer wIh = filled(be, rng, g4 * h);       // (4H, X)
            Buffer wHh = filled(be, rng, g4 * h);       // (4H, H)
            Buffer z = filled(be, rng, rows * g4);      // (T B, 4H) pre-activations
            Buffer dz = filled(be, rng, rows * g4);     // (T B, 4H) their gradients
            Buffer dh = filled(be, rng, b * h);         // (B, H)
            Buffer dwIh = be.allocate(g4 * h);
            Buffer dwHh = be.allocate(g4 * h);
            Runnable iteration = () -> {
                be.gemm(false, true, rows, g4, h, 1, x, h, wIh, h, 0, z, g4);
                for (int s = 1; s < t; s++) {
                    be.gemm(false, true, b, g4, h, 1, hs.slice((s - 1) * b * h, b * h), h, wHh, h, 1,
                            z.slice(s * b * g4, b * g4), g4);
                }
                for (int s = t - 2; s >= 0; s--) {
                    be.gemm(false, false, b, h, g4, 1, dz.slice((s + 1) * b * g4, b * g4), g4, wHh, h, 1, dh, h);
                }
                be.gemm(true, false, g4, h, rows, 1, dz, g4, x, h, 0, dwIh, h);
                if (t > 1) {
                    be.gemm(true, false, g4, h, (t - 1) * b, 1, dz.slice(b * g4, (t - 1) * b * g4), g4,
                            hs.slice(0, (t - 1) * b * h), h, 0, dwHh, h);
                }
                be.synchronize();
            };
            double median = Timing.medianSeconds(iteration, repeats);
            double flops = 2.0 * ((double) rows * g4 * h + (double) (t - 1) * b * g4 * h * 2
                    + (double) g4 * h * rows + (double) g4 * h * (t - 1) * b);
            System.out.printf(Locale.ROOT, "products backend=%s precision=%s size=%d batch=%d steps=%d repeats=%d "
                    + "median_s=%.6e gflops=%.2f%n", args[0], precision.cliName(), h, b, t, repeats, median,
                    flops / median / 1e9);
        }
    }

    private static Buffer filled(Backend be, NumpyRandom rng, int n) {
        Buffer buf = be.allocate(n);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.randomSample() - 0.5;
        }
        be.upload(v, buf);
        return buf;
    }
}

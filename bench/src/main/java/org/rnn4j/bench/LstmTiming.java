package org.rnn4j.bench;

import java.util.Locale;
import org.rnn4j.backend.Precision;

/**
 * Times one training iteration of the standard-cell LSTM layer outside JMH, for the comparison with PyTorch
 * ({@code bench/scripts/torch_vs_rnn4j.py}): {@link LstmTrainingBench}'s own setup and iteration, driven by hand.
 *
 * <pre>
 *   LstmTiming BACKEND PRECISION SIZE BATCH STEPS REPEATS
 * </pre>
 *
 * Runs untimed iterations for at least one second (and at least two), then {@code REPEATS} timed ones, each ending
 * with {@code Backend.synchronize()}, and prints one line:
 * {@code lstm backend=cpu precision=float32 size=256 batch=64 steps=50 repeats=7 median_s=...}.
 */
public final class LstmTiming {

    private LstmTiming() {
    }

    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println("usage: LstmTiming BACKEND PRECISION SIZE BATCH STEPS REPEATS");
            System.exit(2);
        }
        String backendName = args[0];
        Precision precision = Timing.precision("LstmTiming", args[1]);
        int size = Timing.positive("LstmTiming", "SIZE", args[2]);
        int batch = Timing.positive("LstmTiming", "BATCH", args[3]);
        int steps = Timing.positive("LstmTiming", "STEPS", args[4]);
        int repeats = Timing.positive("LstmTiming", "REPEATS", args[5]);
        // Exactly the benchmark's work: its own setup and iteration, driven by hand.
        LstmTrainingBench bench = new LstmTrainingBench();
        bench.backend = backendName;
        bench.precision = precision.cliName();
        bench.size = size;
        bench.batchSize = batch;
        bench.steps = steps;
        bench.setUp(Timing.backend("LstmTiming", backendName, precision));
        try {
            double median = Timing.medianSeconds(bench::trainIteration, repeats);
            System.out.printf(Locale.ROOT, "lstm backend=%s precision=%s size=%d batch=%d steps=%d repeats=%d "
                    + "median_s=%.6e%n", backendName, precision.cliName(), size, batch, steps, repeats,
                    median);
        } finally {
            bench.tearDown();
        }
    }
}

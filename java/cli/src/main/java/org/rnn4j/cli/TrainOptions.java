package org.rnn4j.cli;

import java.nio.file.Path;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.Precision;
import org.rnn4j.rng.NumpyRandom;
import picocli.CommandLine.Option;

/** The options every {@code train} command shares, and their checks. */
final class TrainOptions {

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "auto",
            description = "auto (CUDA when a GPU is usable, else the CPU, saying why), cpu or cuda. Default: ${DEFAULT-VALUE}.")
    String backend;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "float32",
            description = "float32 or float64 (float64 reproduces the seeds' numbers). Default: ${DEFAULT-VALUE}.")
    String precision;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0",
            description = "Seed of numpy's legacy generator, 0 to 4294967295. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.1",
            description = "Learning rate, a positive number (in float32 one that does not round to 0 or infinity). "
                    + "Default: ${DEFAULT-VALUE}.")
    double learningRate;

    @Option(names = "--trace", paramLabel = "FILE",
            description = "Write the run's trace as JSON lines, in the format of the seeds' oracle scripts.")
    Path trace;

    @Option(names = "--summary", paramLabel = "FILE",
            description = "Write one JSON object with the run's settings, timing and result at the end.")
    Path summary;

    @Option(names = "--check", description = "Train on the CPU and on CUDA side by side and compare every traced "
            + "value and the final weights; exit 1 when they differ by more than the tolerance (see docs/parity.md).")
    boolean check;

    @Option(names = "--quiet", description = "Print no progress and no result; errors and warnings only.")
    boolean quiet;

    /** Checks the shared options; throws {@link UsageException} naming the first bad one. */
    Precision validate() {
        if (!Backends.names().contains(backend)) {
            throw new UsageException("--backend: unknown backend '" + backend + "' (expected "
                    + String.join(" or ", Backends.names()) + ")");
        }
        Precision p;
        try {
            p = Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--precision: " + e.getMessage());
        }
        if (seed < 0 || seed > NumpyRandom.MAX_SEED) {
            throw new UsageException("--seed must be between 0 and " + NumpyRandom.MAX_SEED + ", got " + seed);
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new UsageException("--lr must be a positive finite number, got " + learningRate);
        }
        representable(learningRate, "--lr " + learningRate, p);
        return p;
    }

    /**
     * Refuses a positive {@code value} that {@code precision} cannot hold: in float32 one that rounds to zero or to
     * infinity (the backend computes with the rounded value). {@code what} names it: {@code --lr 1.0E-50}.
     */
    static void representable(double value, String what, Precision precision) {
        if (precision != Precision.FLOAT32) {
            return;
        }
        float rounded = (float) value;
        if (Float.isInfinite(rounded)) {
            throw new UsageException(what + " is too large for float32 (it rounds to infinity; the "
                    + "largest float32 is " + Float.MAX_VALUE + "); use --precision float64 or a smaller value");
        }
        if (rounded == 0 && value != 0) {
            throw new UsageException(what + " rounds to zero in float32 (the smallest positive "
                    + "float32 is " + Float.MIN_VALUE + "); use --precision float64 or a larger value");
        }
    }

    static void atLeastOne(int value, String option) {
        if (value < 1) {
            throw new UsageException(option + " must be at least 1, got " + value);
        }
    }
}

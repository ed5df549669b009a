package org.rnn4j.bench;

import java.util.Arrays;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;

/**
 * The out-of-JMH timing of {@link LstmTiming} and {@link StepProducts} (warm up, then the median of single runs), and
 * the command-line checks of those tools and {@link OpProfile}: bad input is one line and exit code 2.
 */
final class Timing {

    private Timing() {
    }

    /**
     * Runs {@code iteration} untimed for at least one second (and at least twice), then {@code repeats} times timed
     * one by one.
     *
     * @param iteration the work, ending with the backend's synchronize
     * @param repeats   how many timed runs, at least 1
     * @return the median of the timed runs, in seconds
     */
    static double medianSeconds(Runnable iteration, int repeats) {
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        for (int i = 0; i < 2 || System.nanoTime() < warmEnd; i++) {
            iteration.run();
        }
        double[] seconds = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            iteration.run();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[repeats / 2];
    }

    /**
     * A positive integer argument, or one line on stderr and exit code 2.
     *
     * @param tool  the tool's name, for the message
     * @param name  the argument's name
     * @param value as given
     * @return the value
     */
    static int positive(String tool, String name, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println(tool + ": " + name + " must be a positive integer, got '" + value + "'");
        System.exit(2);
        return 0;
    }

    /**
     * A precision argument ({@code float32} or {@code float64}), or one line on stderr and exit code 2.
     *
     * @param tool  the tool's name, for the message
     * @param value as given
     * @return the precision
     */
    static Precision precision(String tool, String value) {
        try {
            return Precision.parse(value);
        } catch (IllegalArgumentException e) {
            System.err.println(tool + ": " + e.getMessage());
            System.exit(2);
            return null;
        }
    }

    /**
     * The backend named ({@link BenchBackends#create} on the default GEMM path), or one line on stderr and exit code
     * 2 when the name is unknown or the backend cannot run here.
     *
     * @param tool      the tool's name, for the message
     * @param name      the backend's name
     * @param precision its precision
     * @return the backend
     */
    static Backend backend(String tool, String name, Precision precision) {
        try {
            return BenchBackends.create(name, precision, BenchBackends.PATH_DEFAULT);
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println(tool + ": " + e.getMessage());
            System.exit(2);
            return null;
        }
    }
}

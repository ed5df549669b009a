package org.rnn4j.bench;

import java.util.Arrays;

/** The out-of-JMH timing of {@link LstmTiming} and {@link StepProducts}: warm up, then the median of single runs. */
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
}

package org.rnn4j.train;

/** A trained network (the caller closes it) and the training loop's timing. */
public record Trained<N extends AutoCloseable>(N network, Timing timing) {

    /** Wall time of the loop in seconds, waiting for the device at its end, and how many iterations it ran. */
    public record Timing(int iterations, double seconds) {
        public double iterationsPerSecond() {
            return seconds > 0 ? iterations / seconds : Double.POSITIVE_INFINITY;
        }
    }
}

package org.rnn4j.train;

/**
 * A trained network (the caller closes it) and the training loop's timing.
 *
 * @param <N>     the network's type
 * @param network the trained network, owned by the caller from now on
 * @param timing  how long the training loop took
 */
public record Trained<N extends AutoCloseable>(N network, Timing timing) {

    /**
     * Wall time of the loop in seconds, waiting for the device at its end, and how many iterations it ran.
     *
     * @param iterations the iterations run
     * @param seconds    the loop's wall time, from the first iteration to the device's end of the last
     */
    public record Timing(int iterations, double seconds) {
        /**
         * The training speed.
         *
         * @return {@code iterations / seconds}, or infinity when no time was measured
         */
        public double iterationsPerSecond() {
            return seconds > 0 ? iterations / seconds : Double.POSITIVE_INFINITY;
        }
    }
}

package org.rnn4j.train;

/**
 * Hears about a training loop's progress; called on the training thread, so it must be cheap.
 *
 * @param <R> the trainer's report: {@link RnnTrainer.Report} or {@link LstmTrainer.Report}
 */
public interface TrainingListener<R> {

    /**
     * After every iteration {@code iteration} (0-based) has been issued; nothing is waited for. Does nothing by
     * default.
     *
     * @param iteration the iteration just issued, 0-based
     */
    default void iterationDone(int iteration) {
    }

    /**
     * At an observed iteration, with the values of that iteration's forward pass (weights before its update).
     *
     * @param report what the iteration saw; its values are finite
     */
    void report(R report);
}

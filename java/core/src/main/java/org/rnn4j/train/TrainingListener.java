package org.rnn4j.train;

/** Hears about a training loop's progress; called on the training thread, so it must be cheap. */
public interface TrainingListener<R> {

    /** After every iteration {@code iteration} (0-based) has been issued; nothing is waited for. */
    default void iterationDone(int iteration) {
    }

    /** At an observed iteration, with the values of that iteration's forward pass (weights before its update). */
    void report(R report);
}

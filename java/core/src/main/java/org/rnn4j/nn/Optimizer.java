package org.rnn4j.nn;

/**
 * Updates the parameters of a {@link ParameterArena} from its gradients, keeping whatever changes from step to step
 * (moments, the step count) in buffers on the device, so a step never waits for the device and a recorded iteration
 * ({@link org.rnn4j.backend.Backend#record}) replays it unchanged. Not thread-safe.
 */
public interface Optimizer extends AutoCloseable {

    /** One update of every parameter of the arena from the gradients it holds now. */
    void step();

    /** @return the arena it updates */
    ParameterArena arena();

    /** @return the number of steps taken, read from the device (waits for it) */
    long stepCount();

    /** Releases the optimizer's state. Idempotent. */
    @Override
    void close();
}

package org.rnn4j.nn;

import org.rnn4j.backend.Buffer;

/**
 * A loss over a model's outputs, computed on the device against targets it holds: {@link #forward} puts the value in
 * {@link #loss()} (one element, on the device), {@link #backward} writes the gradient the model's backward reads, and
 * {@link #value()} downloads the value only when asked. Not thread-safe.
 */
public interface Loss extends AutoCloseable {

    /**
     * Computes the loss of {@code outputs} against the targets into {@link #loss()}.
     *
     * @param outputs the model's outputs
     */
    void forward(Buffer outputs);

    /**
     * Writes {@code dL/d outputs} into {@code outputGrads} (not accumulated).
     *
     * @param outputs     the model's outputs, as given to {@link #forward}
     * @param outputGrads where the gradient goes, as long as {@code outputs}
     */
    void backward(Buffer outputs, Buffer outputGrads);

    /** @return the one-element buffer holding the last {@link #forward}'s value, on the device */
    Buffer loss();

    /** @return the last {@link #forward}'s value; waits for the device */
    double value();

    /** Releases the loss's buffers. Idempotent. */
    @Override
    void close();
}

package org.rnn4j.backend.spi;

import java.util.Objects;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * The memory behind a root {@link Buffer}: backend implementations subclass it to hold their storage (a Java array,
 * a device pointer) and wrap it with {@link Buffer#root}. Part of the service-provider interface, not of what a user of
 * rnn4j touches.
 */
public abstract class Allocation {
    private final Backend owner;
    private final int length;
    private boolean released;

    /**
     * Records the owner and size of new storage; the subclass holds the storage itself.
     *
     * @param owner  the backend that made it, not null
     * @param length the number of elements
     * @throws NullPointerException when {@code owner} is null
     */
    protected Allocation(Backend owner, int length) {
        this.owner = Objects.requireNonNull(owner, "owner");
        this.length = length;
    }

    /** Frees the memory. Called exactly once. */
    protected abstract void release();

    /** @return the backend that made this allocation */
    public final Backend owner() {
        return owner;
    }

    /** @return the number of elements */
    public final int length() {
        return length;
    }

    /** @return whether the memory has been freed */
    public final boolean isReleased() {
        return released;
    }

    /**
     * Frees the memory unless it was freed already; called by {@link Buffer#close()} on a root buffer. Not for users:
     * a buffer is released by closing it.
     */
    public final void releaseOnce() {
        if (!released) {
            released = true;
            release();
        }
    }
}

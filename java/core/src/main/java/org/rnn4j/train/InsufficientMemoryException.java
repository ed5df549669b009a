package org.rnn4j.train;

/**
 * A training configuration was refused before anything was allocated: by {@link MemoryNeed#require}'s estimate it
 * needs more memory than its backend's device or the Java heap has free. The message is one line naming the bytes
 * needed and available, and for the heap a {@code JAVA_OPTS=-Xmx...} that would do.
 */
public final class InsufficientMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Bytes needed where it did not fit (serialized). */
    private final long needed;
    /** Bytes available there (serialized). */
    private final long available;
    /** Whether the Java heap is what is short (serialized). */
    private final boolean heap;

    InsufficientMemoryException(String message, long needed, long available, boolean heap) {
        super(message);
        this.needed = needed;
        this.available = available;
        this.heap = heap;
    }

    /**
     * Bytes the configuration needs where it did not fit.
     *
     * @return the bytes needed on the device, or on the heap when {@link #heap()}
     */
    public long needed() {
        return needed;
    }

    /**
     * Bytes that were available there.
     *
     * @return the device's free bytes, or the heap's available bytes when {@link #heap()}
     */
    public long available() {
        return available;
    }

    /**
     * Whether the Java heap (rather than the device's memory) is what is short.
     *
     * @return true when a larger {@code -Xmx} would help
     */
    public boolean heap() {
        return heap;
    }
}

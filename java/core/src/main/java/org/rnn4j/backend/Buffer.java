package org.rnn4j.backend;

import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.spi.Allocation;

/**
 * An opaque handle to a one-dimensional array of {@link Precision} elements owned by a {@link Backend}; it may live in
 * device memory. Networks never read or write the elements directly: they pass buffers to the backend's operations and
 * move data with {@link Backend#upload} and {@link Backend#download}.
 *
 * <p>A buffer is either a root, which owns its allocation, or a view ({@link #slice}) of a contiguous range of another
 * buffer. Closing the root releases the allocation and invalidates every view of it; closing a view does nothing, since
 * a view owns no memory. Using a closed buffer fails with {@link IllegalStateException}.
 */
public final class Buffer implements AutoCloseable {

    private final Allocation allocation;
    private final int offset;
    private final int length;
    private final boolean root;

    private Buffer(Allocation allocation, int offset, int length, boolean root) {
        this.allocation = allocation;
        this.offset = offset;
        this.length = length;
        this.root = root;
    }

    /**
     * Wraps a fresh allocation as a root buffer; for backend implementations (see {@link Allocation}).
     *
     * @param allocation the storage, owned by the returned buffer from now on
     * @return a root buffer over the whole allocation
     */
    public static Buffer root(Allocation allocation) {
        return new Buffer(allocation, 0, allocation.length(), true);
    }

    /**
     * Number of elements.
     *
     * @return the length, not negative (a view may be empty)
     */
    public int length() {
        return length;
    }

    /**
     * Element offset of this buffer inside its allocation; for backends.
     *
     * @return 0 for a root, the start of the range for a view
     */
    public int offset() {
        return offset;
    }

    /**
     * The allocation behind this buffer; for backends (check {@link Allocation#owner()} before casting).
     *
     * @return the allocation, shared by the root and its views
     * @throws IllegalStateException when the memory has been released
     */
    public Allocation allocation() {
        checkOpen();
        return allocation;
    }

    /**
     * The backend that owns this buffer.
     *
     * @return the backend that allocated it
     */
    public Backend owner() {
        return allocation.owner();
    }

    /**
     * Whether this buffer owns its allocation (as opposed to being a view).
     *
     * @return true for a root buffer
     */
    public boolean isRoot() {
        return root;
    }

    /**
     * Whether the memory behind this buffer has been released (its root closed, or its backend).
     *
     * @return true once released
     */
    public boolean isClosed() {
        return allocation.isReleased();
    }

    /**
     * A view of {@code length} elements starting at element {@code offset} of this buffer. The view shares the
     * memory; it stays valid as long as the root is open.
     *
     * @param offset the first element of the view, relative to this buffer
     * @param length the number of elements, not negative
     * @return the view
     * @throws IllegalStateException    when the memory has been released
     * @throws IllegalArgumentException when the range does not lie inside this buffer
     */
    public Buffer slice(int offset, int length) {
        checkOpen();
        if (offset < 0 || length < 0 || offset > this.length - length) {
            throw new IllegalArgumentException("slice [" + offset + ", " + offset + " + " + length
                    + ") lies outside a buffer of length " + this.length);
        }
        return new Buffer(allocation, this.offset + offset, length, false);
    }

    /**
     * Checks that the memory behind this buffer is still there.
     *
     * @throws IllegalStateException when the memory has been released
     */
    public void checkOpen() {
        if (allocation.isReleased()) {
            throw new IllegalStateException("buffer used after it was closed");
        }
    }

    /**
     * Releases the allocation when this is a root buffer; a view owns nothing and closing it does nothing.
     *
     * @throws IllegalStateException when its backend is recording a replay (the memory may be part of the recording)
     */
    @Override
    public void close() {
        if (root && !allocation.isReleased()) {
            if (allocation.owner() instanceof AbstractBackend backend) {
                backend.beforeRelease();
            }
            allocation.releaseOnce();
        }
    }

    @Override
    public String toString() {
        return "Buffer[" + (root ? "root" : "view") + ", offset=" + offset + ", length=" + length
                + (isClosed() ? ", closed" : "") + "]";
    }
}

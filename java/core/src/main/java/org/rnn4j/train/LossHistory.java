package org.rnn4j.train;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * Every iteration's loss, kept on the backend in a ring of {@link #WINDOW} slots (the training loop writes iteration
 * {@code j}'s loss into {@link #slot slot(j)}), and checked for infinities and NaN only when the loop downloads a loss
 * anyway: at an observed iteration, at the end, and, when nothing was observed for {@code WINDOW} iterations, before
 * a slot still unchecked would be overwritten (one small download every {@code WINDOW} iterations at most). So the
 * first non-finite iteration is found exactly, without waiting for the device any more often than the loop does.
 */
final class LossHistory implements AutoCloseable {

    /** Slots in the ring: iterations that may pass between two checks. */
    static final int WINDOW = 1024;

    private final Backend backend;
    private final Buffer ring;
    private final int window;
    private final String quantity;
    private int checkedThrough = -1; // every iteration up to this one has been checked (and was finite)

    LossHistory(Backend backend, int iterations, String quantity) {
        this.backend = backend;
        this.window = Math.max(1, Math.min(iterations, WINDOW));
        this.ring = backend.allocate(window);
        this.quantity = quantity;
    }

    /** Elements this ring holds on the backend for a loop of {@code iterations}. */
    static int elements(int iterations) {
        return Math.max(1, Math.min(iterations, WINDOW));
    }

    /**
     * Where iteration {@code j} writes its loss. Checks the iterations not yet checked first when the slot still holds
     * one of them (that is, when nothing was checked for a whole window).
     */
    Buffer slot(int j) {
        if (j - checkedThrough > window) {
            check(j - 1);
        }
        return ring.slice(j % window, 1);
    }

    /**
     * Downloads the losses of the iterations after the last check up to {@code through} (waiting for the device), and
     * returns iteration {@code through}'s.
     *
     * @throws NonFiniteLossException naming the first of them that is infinite or NaN
     */
    double check(int through) {
        int from = checkedThrough + 1;
        if (through < from) {
            throw new IllegalStateException("iteration " + through + " was already checked");
        }
        int count = through - from + 1;
        if (count > window) {
            throw new IllegalStateException("iterations " + from + " to " + through + " do not fit the ring of "
                    + window);
        }
        double[] values = new double[count];
        int start = from % window;
        int first = Math.min(count, window - start);
        backend.download(ring.slice(start, first), values, 0);
        if (first < count) {
            backend.download(ring.slice(0, count - first), values, first);
        }
        for (int i = 0; i < count; i++) {
            if (!Double.isFinite(values[i])) {
                throw new NonFiniteLossException(quantity, from + i, values[i], from + i - 1, true);
            }
        }
        checkedThrough = through;
        return values[count - 1];
    }

    @Override
    public void close() {
        ring.close();
    }
}

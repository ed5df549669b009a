package org.rnn4j.train;

import java.util.Locale;

/**
 * Training stopped because its loss became infinite or NaN: nothing after that point means anything, so the trainer
 * closes the network and throws this instead of returning it.
 *
 * <p>{@link #iteration()} is the first iteration whose loss the trainer saw non-finite. Where the trainer keeps every
 * iteration's loss on the device ({@link LstmTrainer}) that is exactly the first bad iteration ({@link #exact()});
 * where it sees the loss only at the iterations it downloads anyway ({@link RnnTrainer}: the observed ones and the
 * last), the loss went bad after {@link #lastFinite()} and at the latest at {@link #iteration()}.
 */
public final class NonFiniteLossException extends ArithmeticException {
    private static final long serialVersionUID = 1L;

    /** {@code loss} or {@code error} (serialized). */
    private final String quantity;
    /** The iteration it was seen non-finite at (serialized). */
    private final int iteration;
    /** The value seen (serialized). */
    private final double value;
    /** The last iteration seen finite, or -1 (serialized). */
    private final int lastFinite;
    /** Whether every iteration was seen (serialized). */
    private final boolean exact;

    /**
     * @param quantity   what the value is, as the trainer reports it ({@code loss}, {@code error})
     * @param iteration  the iteration (0-based) at which it was seen non-finite
     * @param value      the value seen there (NaN or an infinity)
     * @param lastFinite the last iteration seen finite before, or -1 when none was
     * @param exact      whether every iteration's value was seen, so that {@code iteration} is the first bad one
     */
    public NonFiniteLossException(String quantity, int iteration, double value, int lastFinite, boolean exact) {
        super(message(quantity, iteration, value, lastFinite, exact));
        this.quantity = quantity;
        this.iteration = iteration;
        this.value = value;
        this.lastFinite = lastFinite;
        this.exact = exact;
    }

    private static String message(String quantity, int iteration, double value, int lastFinite, boolean exact) {
        String what = Double.isNaN(value) ? "NaN" : "infinite";
        if (exact || iteration == lastFinite + 1) {
            return String.format(Locale.ROOT, "the %s became %s at iteration %d", quantity, what, iteration);
        }
        return String.format(Locale.ROOT, "the %s became %s at iteration %d at the latest (%s)", quantity, what,
                iteration, lastFinite < 0 ? "no earlier iteration was checked"
                        : "it was finite at iteration " + lastFinite + ", the last one checked");
    }

    /**
     * The name the trainer's reports give the value.
     *
     * @return {@code loss} or {@code error}
     */
    public String quantity() {
        return quantity;
    }

    /**
     * The first iteration (0-based) at which the value was seen non-finite.
     *
     * @return the iteration, 0-based
     */
    public int iteration() {
        return iteration;
    }

    /**
     * The value seen.
     *
     * @return NaN or an infinity
     */
    public double value() {
        return value;
    }

    /**
     * The last iteration at which the value was seen finite before {@link #iteration()}.
     *
     * @return the iteration, 0-based, or -1 when none was checked
     */
    public int lastFinite() {
        return lastFinite;
    }

    /**
     * Whether {@link #iteration()} is exactly the first non-finite iteration (every iteration's value was seen, or
     * the one before it was seen finite).
     *
     * @return true when the first bad iteration is known exactly
     */
    public boolean exact() {
        return exact || iteration == lastFinite + 1;
    }
}

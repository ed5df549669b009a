package org.rnn4j.backend;

/**
 * The one place that fixes the order of an LSTM's four gates inside its {@code (B, 4H)} pre-activation and gate buffers
 * and inside the rows of its {@code (4H, X + H)} weight matrix: {@code [i | f | g | o]}, each a block of {@code H},
 * the order PyTorch's {@code nn.LSTM} and cuDNN use. Gate {@code k} of unit {@code j} in batch row {@code b} sits at
 * {@code b * 4H + k * H + j}.
 */
public final class GateLayout {
    /** Input gate. */
    public static final int I = 0;
    /** Forget gate. */
    public static final int F = 1;
    /** Candidate (cell input), the tanh gate. */
    public static final int G = 2;
    /** Output gate. */
    public static final int O = 3;
    /** Number of gates. */
    public static final int GATES = 4;

    private GateLayout() {
    }

    /**
     * Offset of gate {@code gate}, unit {@code unit}, within one row of {@code 4 * hidden} gate values.
     *
     * @param gate   {@link #I}, {@link #F}, {@link #G} or {@link #O}
     * @param hidden the hidden size {@code H}
     * @param unit   the unit, in {@code [0, H)}
     * @return {@code gate * H + unit} (not checked)
     */
    public static int offset(int gate, int hidden, int unit) {
        return gate * hidden + unit;
    }
}

package org.rnn4j.net;

/** One named parameter tensor inside a network's parameter arena: a row-major {@code (rows, cols)} block. */
public record ParamTensor(String name, int offset, int rows, int cols) {
    public int size() {
        return rows * cols;
    }
}

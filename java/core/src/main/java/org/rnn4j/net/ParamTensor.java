package org.rnn4j.net;

/**
 * One named parameter tensor inside a network's parameter arena: a row-major {@code (rows, cols)} block.
 *
 * @param name   the tensor's name: PyTorch's ({@code weight_ih}, ...) or the seed's ({@code W}, {@code b})
 * @param offset where its first element sits in the flat parameter array
 * @param rows   rows of the block (1 for a vector)
 * @param cols   columns of the block
 */
public record ParamTensor(String name, int offset, int rows, int cols) {
    /**
     * Elements of the tensor.
     *
     * @return {@code rows * cols}
     */
    public int size() {
        return rows * cols;
    }
}

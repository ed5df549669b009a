package org.rnn4j.backend.cpu;

/**
 * The element-wise activations of {@link CpuBackend64}'s standard LSTM cell over runs of array elements, each element
 * exactly as the scalar formulas give it: {@code sigmoid(x) = 1 / (1 + exp(-x))} and {@code tanh(x)} by
 * {@link Math#tanh}. The float32 backend calls {@link CpuActivations32} instead (written by hand: it approximates, so
 * it is not generated from this file).
 */
final class CpuActivations64 {

    private CpuActivations64() {
    }

    /**
     * {@code a[off + j] = sigmoid(a[off + j])} for {@code j < n}, in place.
     *
     * @param a   the values, replaced by their sigmoid
     * @param off the first one
     * @param n   how many
     */
    static void sigmoid(double[] a, int off, int n) {
        for (int j = 0; j < n; j++) {
            a[off + j] = 1 / (1 + Math.exp(-a[off + j]));
        }
    }

    /**
     * {@code a[off + j] = tanh(a[off + j])} for {@code j < n}, in place.
     *
     * @param a   the values, replaced by their tanh
     * @param off the first one
     * @param n   how many
     */
    static void tanh(double[] a, int off, int n) {
        for (int j = 0; j < n; j++) {
            a[off + j] = Math.tanh(a[off + j]);
        }
    }
}

package org.rnn4j.bench;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.rng.NumpyRandom;

/**
 * A GEMM shape of the benchmarks, {@code C (m, n) = A (m, k) * op(B)}, row-major and packed ({@code lda = k},
 * {@code ldc = n}; {@code B} is stored {@code (k, n)}, or {@code (n, k)} when transposed).
 *
 * @param label   as given to {@code shape}: a number {@code N} for the square {@code N x N x N}, or {@code lstm}
 * @param transB  whether {@code op(B)} is {@code B}'s transpose
 */
public record GemmShape(String label, int m, int n, int k, boolean transB) {

    /** The LSTM step's GEMM: a batch of 64, four gates of 256 ({@code 4H = 1024}), input 256, weights transposed. */
    public static final GemmShape LSTM = new GemmShape("lstm", 64, 1024, 256, true);

    /** {@code N} (a square) or {@code lstm}. */
    public static GemmShape parse(String label) {
        if (label.equals(LSTM.label)) {
            return LSTM;
        }
        int n;
        try {
            n = Integer.parseInt(label);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("shape must be a size N (for N x N x N) or lstm, got '" + label + "'");
        }
        if (n < 1) {
            throw new IllegalArgumentException("shape size must be at least 1, got " + n);
        }
        return new GemmShape(label, n, n, n, false);
    }

    /** Whether this is a square {@code N x N x N}. */
    public boolean square() {
        return !transB && m == n && n == k;
    }

    /** Floating-point operations of one call, {@code 2 m n k}. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    /** {@code m x n x k}, with {@code , B transposed} where it is. */
    public String describe() {
        return m + "x" + n + "x" + k + (transB ? ", B transposed" : "");
    }

    /** {@code c = a * op(b)}; issues the call and returns (the caller synchronizes). */
    public void run(Backend backend, Buffer a, Buffer b, Buffer c) {
        backend.gemm(false, transB, m, n, k, 1.0, a, k, b, transB ? k : n, 0.0, c, n);
    }

    /** {@code length} values uniform in {@code [-1, 1)}. */
    static double[] uniform(NumpyRandom rng, int length) {
        double[] v = new double[length];
        for (int i = 0; i < length; i++) {
            v[i] = 2 * rng.randomSample() - 1;
        }
        return v;
    }
}

package org.rnn4j.backend.cpu;

/**
 * The element-wise activations of {@link CpuBackend32}'s standard LSTM cell, approximated in {@code float} by loops
 * that the JIT compiles to SIMD code (no call, no branch, no bit manipulation in the loop body; JDK 17's C2
 * vectorises them): about 0.3 ns per element here against 30 ns for {@code (float) Math.tanh(x)}, which is a JNI call
 * into fdlibm. That call made the cell forward a quarter of a float32 training step ({@code H = 256, B = 64, T = 50}).
 *
 * <p>{@code tanh} is the 13/6-degree rational interpolant that Eigen uses for float ({@code generic_fast_tanh_float},
 * which TensorFlow's CPU kernels run), on inputs clamped to {@code +-7.90531110763549805}, where it reaches
 * {@code +-1}; {@code sigmoid(x) = 0.5 + 0.5 * tanh(x / 2)}. Measured against the double-precision functions over
 * every 7th float of magnitude below 20 ({@code CpuActivations32Test}): tanh within 6.5 float ulps (absolute error at
 * most 3.9e-7) for {@code |x| >= 1e-30}, sigmoid within an absolute error of 2.1e-7. Relative accuracy of sigmoid is
 * lost where it is tiny (it returns 0 below about -15.8 instead of a value under 1.4e-7): an absolute error far
 * below what the float32 GEMMs that make the pre-activations already carry. {@link CpuActivations64}, the float64
 * reference, computes the exact formulas.
 */
final class CpuActivations32 {

    /** Where the interpolant reaches +-1 in float: inputs are clamped to this magnitude. */
    private static final float TANH_CLAMP = 7.90531110763549805f;

    // The interpolant's coefficients: p(x) = x (a1 + a3 x^2 + ... + a13 x^12), q(x) = b0 + b2 x^2 + b4 x^4 + b6 x^6.
    private static final float A1 = 4.89352455891786e-03f;
    private static final float A3 = 6.37261928875436e-04f;
    private static final float A5 = 1.48572235717979e-05f;
    private static final float A7 = 5.12229709037114e-08f;
    private static final float A9 = -8.60467152213735e-11f;
    private static final float A11 = 2.00018790482477e-13f;
    private static final float A13 = -2.76076847742355e-16f;
    private static final float B0 = 4.89352518554385e-03f;
    private static final float B2 = 2.26843463243900e-03f;
    private static final float B4 = 1.18534705686654e-04f;
    private static final float B6 = 1.19825839466702e-06f;

    private CpuActivations32() {
    }

    /**
     * {@code a[off + j] = sigmoid(a[off + j])} for {@code j < n}, in place, approximated as the class says.
     *
     * @param a   the values, replaced by their sigmoid
     * @param off the first one
     * @param n   how many
     */
    static void sigmoid(float[] a, int off, int n) {
        for (int j = 0; j < n; j++) {
            a[off + j] = 0.5f + 0.5f * tanh(0.5f * a[off + j]);
        }
    }

    /**
     * {@code a[off + j] = tanh(a[off + j])} for {@code j < n}, in place, approximated as the class says.
     *
     * @param a   the values, replaced by their tanh
     * @param off the first one
     * @param n   how many
     */
    static void tanh(float[] a, int off, int n) {
        for (int j = 0; j < n; j++) {
            a[off + j] = tanh(a[off + j]);
        }
    }

    /** One element (inlined into the loops above, where it vectorises); NaN stays NaN. */
    static float tanh(float x) {
        float xc = Math.max(-TANH_CLAMP, Math.min(TANH_CLAMP, x));
        float x2 = xc * xc;
        float p = x2 * A13 + A11;
        p = x2 * p + A9;
        p = x2 * p + A7;
        p = x2 * p + A5;
        p = x2 * p + A3;
        p = x2 * p + A1;
        p = xc * p;
        float q = x2 * B6 + B4;
        q = x2 * q + B2;
        q = x2 * q + B0;
        return p / q;
    }
}

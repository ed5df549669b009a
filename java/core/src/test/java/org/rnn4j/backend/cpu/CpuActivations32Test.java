package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The float32 cell's approximated activations ({@link CpuActivations32}) against the double-precision functions, over
 * a sweep of every 61st float below 20 in magnitude (both signs, subnormals included) and the special values: the
 * bounds its documentation states.
 */
class CpuActivations32Test {

    /** Every 61st float pattern of magnitude below 20 ({@code 0x41a00000}), both signs. */
    private static float[] sweep() {
        int count = 0x41a00000 / 61 + 1;
        float[] x = new float[2 * count];
        for (int i = 0; i < count; i++) {
            x[2 * i] = Float.intBitsToFloat(i * 61);
            x[2 * i + 1] = -x[2 * i];
        }
        return x;
    }

    @Test
    void tanhIsWithinItsStatedBounds() {
        float[] x = sweep();
        float[] y = x.clone();
        CpuActivations32.tanh(y, 0, y.length);
        double worstUlps = 0;
        double worstAbs = 0;
        for (int i = 0; i < x.length; i++) {
            double want = Math.tanh(x[i]);
            double err = Math.abs(y[i] - want);
            worstAbs = Math.max(worstAbs, err);
            if (Math.abs(x[i]) >= 1e-30) {
                worstUlps = Math.max(worstUlps, err / Math.ulp((float) want));
            }
        }
        assertTrue(worstUlps <= 6.5, "tanh within 6.5 ulps, worst " + worstUlps);
        assertTrue(worstAbs <= 3.9e-7, "tanh within 3.9e-7, worst " + worstAbs);
    }

    @Test
    void sigmoidIsWithinItsStatedBound() {
        float[] x = sweep();
        float[] y = x.clone();
        CpuActivations32.sigmoid(y, 0, y.length);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(y[i] - 1 / (1 + Math.exp(-(double) x[i]))));
        }
        assertTrue(worst <= 2.1e-7, "sigmoid within 2.1e-7, worst " + worst);
    }

    @Test
    void specialValuesAndOffsets() {
        float[] a = {9f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 100f, -100f, 9f};
        float[] t = a.clone();
        CpuActivations32.tanh(t, 1, 7);
        assertEquals(9f, t[0], "before the range: untouched");
        assertEquals(9f, t[8], "after the range: untouched");
        assertTrue(Float.isNaN(t[1]), "NaN stays NaN (a diverged run must be seen)");
        assertEquals(1f, t[2]);
        assertEquals(-1f, t[3]);
        assertEquals(0f, t[4]);
        assertEquals(1f, t[6]);
        assertEquals(-1f, t[7]);
        float[] s = a.clone();
        CpuActivations32.sigmoid(s, 1, 7);
        assertTrue(Float.isNaN(s[1]));
        assertEquals(1f, s[2]);
        assertEquals(0f, s[3]);
        assertEquals(0.5f, s[4]);
        assertEquals(1f, s[6]);
        assertEquals(0f, s[7]);
    }
}

package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * float[] transfers on the CPU backends, which copy directly (no temporary double[]): exact in float32, widened
 * exactly and narrowed to nearest in float64, into and out of views at an offset, checked like the double[] ones.
 */
class FloatTransferTest {

    private static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) ((r.nextDouble() - 0.5) * Math.scalb(1.0, r.nextInt(-30, 30)));
        }
        return f;
    }

    @Test
    void floatsRoundTripExactlyThroughViewsInBothPrecisions() {
        for (Backend b : new Backend[] {new CpuBackend32(), new CpuBackend64()}) {
            try (b; Buffer root = b.allocate(40)) {
                float[] src = randomFloats(50, 7);
                Buffer view = root.slice(3, 31);
                b.uploadFloats(src, 5, view);
                float[] back = new float[40];
                b.downloadFloats(view, back, 2);
                for (int i = 0; i < 31; i++) {
                    assertEquals(Float.floatToIntBits(src[5 + i]), Float.floatToIntBits(back[2 + i]), b + " at " + i);
                }
                double[] wide = b.download(view); // the double path sees the same values, widened exactly
                for (int i = 0; i < 31; i++) {
                    assertEquals((double) src[5 + i], wide[i], 0.0);
                }
                assertEquals(0.0, b.download(root.slice(0, 3))[0], 0.0, "nothing written before the view");
            }
        }
    }

    @Test
    void float64ValuesAreRoundedToNearestOnTheWayOut() {
        try (Backend b = new CpuBackend64(); Buffer x = b.allocate(3)) {
            double[] v = {0.1, 1.0 / 3, 1e-50};
            b.upload(v, x);
            assertArrayEquals(new float[] {0.1f, 1f / 3, 0f}, b.downloadFloats(x));
        }
    }

    @Test
    void badArgumentsAreRefusedNamingThem() {
        try (Backend b = new CpuBackend32(); Buffer x = b.allocate(4)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> b.uploadFloats(new float[3], 0, x))
                    .getMessage().contains("src holds 3"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> b.downloadFloats(x, new float[4], 1))
                    .getMessage().contains("dst holds 4"));
            assertThrows(IllegalArgumentException.class, () -> b.uploadFloats(null, 0, x));
            b.uploadFloats(new float[0], 0, x.slice(4, 0)); // empty: nothing to do
            x.close();
            assertThrows(IllegalStateException.class, () -> b.uploadFloats(new float[4], 0, x));
        }
    }
}

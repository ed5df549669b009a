package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;

/** float[] transfers on CUDA (a bulk copy in float32, widened in float64): the same values as the CPU's. */
@RequiresCuda
class CudaFloatTransferTest {

    @Test
    void floatsRoundTripThroughViewsAsOnTheCpu() {
        float[] src = new float[70_000]; // more than one staging chunk
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) Math.sin(i * 0.37) * (i % 7 + 1) * 1e-3f;
        }
        for (Precision p : Precision.values()) {
            try (Backend cuda = CudaBackendProvider.create(p, false); Buffer root = cuda.allocate(src.length + 5)) {
                Buffer view = root.slice(5, src.length - 3);
                cuda.uploadFloats(src, 3, view);
                float[] back = new float[src.length];
                cuda.downloadFloats(view, back, 3);
                for (int i = 3; i < src.length; i++) {
                    assertEquals(Float.floatToIntBits(src[i]), Float.floatToIntBits(back[i]), p + " at " + i);
                }
                double[] wide = cuda.download(view);
                for (int i = 0; i < wide.length; i++) {
                    assertEquals((double) src[3 + i], wide[i], 0.0, p + " at " + i);
                }
                assertArrayEquals(new double[5], cuda.download(root.slice(0, 5)), "nothing before the view");
            }
        }
    }
}

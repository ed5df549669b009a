package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Precision;

/** The device limits the kernel harness measures against, from attributes, and the harness's options; no GPU. */
class DeviceLimitsTest {

    @Test
    void hopperLimitsFromItsAttributes() {
        // An H100 SXM's attributes: 132 SMs, 1980 MHz boost clock, 5120-bit HBM3 at 2619 MHz.
        DeviceLimits h100 = new DeviceLimits("H100", 9, 0, 132, 1_980_000, 2_619_000, 5120);
        assertEquals(2 * 2.619e9 * 640, h100.bandwidth(), 1e3); // 3.35 TB/s, the data sheet's figure
        assertEquals(2 * 128 * 132 * 1.98e9, h100.peakFlops(false), 1e3); // 66.9 TFLOP/s
        assertEquals(2 * 64 * 132 * 1.98e9, h100.peakFlops(true), 1e3); // 33.5 TFLOP/s
        String d = h100.describe();
        assertTrue(d.contains("peak bandwidth 3352.3 GB/s"), d);
        assertTrue(d.contains("peak float32 66.9 TFLOP/s, float64 33.5 TFLOP/s"), d);
    }

    @Test
    void consumerPartsHaveSlowFloat64AndUnknownPartsNoPeak() {
        DeviceLimits ada = new DeviceLimits("RTX 4090", 8, 9, 128, 2_520_000, 10_501_000, 384);
        assertEquals(ada.peakFlops(false) / 64, ada.peakFlops(true), 1e-3);
        DeviceLimits unknown = new DeviceLimits("future", 13, 0, 100, 2_000_000, 0, 0);
        assertTrue(Double.isNaN(unknown.peakFlops(false)));
        assertTrue(Double.isNaN(unknown.peakFlops(true)));
        assertTrue(Double.isNaN(unknown.bandwidth()), "no memory clock reported: no bandwidth");
        assertTrue(unknown.describe().contains("peak bandwidth unknown"), unknown.describe());
        assertTrue(unknown.describe().contains("(not reported)"), unknown.describe());
    }

    @Test
    void harnessOptionsNameWhatIsWrong() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KernelHarness.Options(
                true, false, List.of(Precision.FLOAT32), Set.of("gemm", "nope"), false));
        assertTrue(e.getMessage().contains("unknown family nope"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KernelHarness.Options(false, false,
                List.of(Precision.FLOAT32), Set.of("gemm"), false));
        assertThrows(IllegalArgumentException.class, () -> new KernelHarness.Options(true, true, List.of(),
                Set.of("gemm"), false));
    }
}

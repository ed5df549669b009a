package org.rnn4j.cuda;

import java.util.Locale;

/**
 * A device's own limits, computed from the attributes its driver reports, for {@link KernelHarness} to measure the
 * kernels against.
 *
 * <ul>
 *   <li><b>Memory bandwidth</b> = 2 x memory clock x bus width / 8 bytes per second
 *       ({@code CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE}, kHz, and {@code CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH},
 *       bits; the factor 2 for the double data rate, as CUDA's own bandwidth samples compute it). The elementwise
 *       kernels and the reductions are measured against it.</li>
 *   <li><b>float32 and float64 peak</b> = SMs x clock ({@code CU_DEVICE_ATTRIBUTE_CLOCK_RATE}, kHz) x fused
 *       multiply-adds per SM per clock x 2 flops. The FMAs per SM per clock are the CUDA C++ Programming Guide's
 *       arithmetic-instruction throughput per compute capability (assumed, not read from the device): float32 64 on
 *       7.0, 7.5 and 8.0, 128 on 8.6, 8.7, 8.9, 9.0, 10.0, 10.3, 12.0 and 12.1; float64 32 on 7.0 and 8.0, 64 on 9.0
 *       and 10.0 (the data-centre parts), 2 on 7.5, 8.6, 8.7, 8.9, 12.0 and 12.1 (1/64 of float32). Any other compute
 *       capability (or precision) gives no peak rather than a guess. The GEMMs are measured against it (tensor cores excluded: TF32 is off).</li>
 * </ul>
 *
 * @param name the device's name
 * @param major compute capability, major
 * @param minor compute capability, minor
 * @param multiprocessors SM count
 * @param clockKhz the SM clock, kHz (0 when the driver does not report it)
 * @param memoryClockKhz the memory clock, kHz (0 when not reported)
 * @param busWidthBits the memory bus width, bits (0 when not reported)
 */
public record DeviceLimits(String name, int major, int minor, int multiprocessors, int clockKhz, int memoryClockKhz,
                           int busWidthBits) {

    /**
     * Peak memory bandwidth.
     *
     * @return bytes per second; NaN when the driver reports no memory clock or bus width
     */
    public double bandwidth() {
        if (memoryClockKhz <= 0 || busWidthBits <= 0) {
            return Double.NaN;
        }
        return 2.0 * memoryClockKhz * 1e3 * (busWidthBits / 8.0);
    }

    /**
     * Fused multiply-adds per SM per clock, from the CUDA programming guide's throughput table.
     *
     * @param float64 float64 rather than float32
     * @return the count; 0 for an unknown compute capability
     */
    public int fmaPerSmPerClock(boolean float64) {
        int cc = major * 10 + minor;
        if (!float64) {
            return switch (cc) {
                case 70, 75, 80 -> 64;
                case 86, 87, 89, 90, 100, 103, 120, 121 -> 128;
                default -> 0;
            };
        }
        return switch (cc) {
            case 70, 80 -> 32;
            case 90, 100 -> 64;
            case 75, 86, 87, 89, 120, 121 -> 2;
            default -> 0;
        };
    }

    /**
     * Peak arithmetic rate without tensor cores (2 flops per FMA).
     *
     * @param float64 float64 rather than float32
     * @return flops per second; NaN when unknown
     */
    public double peakFlops(boolean float64) {
        int fma = fmaPerSmPerClock(float64);
        if (fma == 0 || clockKhz <= 0 || multiprocessors <= 0) {
            return Double.NaN;
        }
        return 2.0 * fma * multiprocessors * (clockKhz * 1e3);
    }

    /**
     * What the limits are and where they come from.
     *
     * @return a few lines of text
     */
    public String describe() {
        return String.format(Locale.ROOT, "device: %s, compute capability %d.%d, %d SMs at %s, memory %d bits at %s%n"
                        + "  peak bandwidth %s (2 x memory clock x bus width / 8)%n"
                        + "  peak float32 %s, float64 %s (SMs x clock x 2 x FMAs per SM per clock: %s and %s, "
                        + "the programming guide's figures for compute capability %d.%d; no tensor cores)",
                name, major, minor, multiprocessors, mhz(clockKhz), busWidthBits, mhz(memoryClockKhz),
                rate(bandwidth(), "GB/s", 1e9), rate(peakFlops(false), "TFLOP/s", 1e12),
                rate(peakFlops(true), "TFLOP/s", 1e12), known(fmaPerSmPerClock(false)),
                known(fmaPerSmPerClock(true)), major, minor);
    }

    private static String mhz(int khz) {
        return khz <= 0 ? "(not reported)" : String.format(Locale.ROOT, "%.0f MHz", khz / 1e3);
    }

    private static String known(int fma) {
        return fma == 0 ? "unknown" : Integer.toString(fma);
    }

    static String rate(double v, String unit, double scale) {
        return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%.1f %s", v / scale, unit);
    }
}

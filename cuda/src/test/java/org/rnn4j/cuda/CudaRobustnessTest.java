package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;

/**
 * The CUDA backend at the edges: operations on zero elements (no-ops, as on the CPU, also inside a graph capture),
 * closing a buffer while recording (refused, and the capture left cleanly), and a constructor that fails after making
 * everything (it releases it all: device memory comes back).
 */
@RequiresCuda
class CudaRobustnessTest {

    /** Every GEMM path this machine has: the built-in kernel, and cuBLAS when it loads. */
    private static List<Boolean> gemmPaths() {
        List<Boolean> paths = new ArrayList<>(List.of(false));
        if (CudaProbe.get().gemm().cublas()) {
            paths.add(true);
        }
        return paths;
    }

    /** The zero-element calls, and GEMM with k = 0, on {@code b}; returns the 3 + 4 values they must leave as given. */
    private static double[] zeroSizedWork(Backend b) {
        Buffer all = b.allocate(3);
        b.upload(new double[] {7, 8, 9}, all);
        Buffer e1 = all.slice(1, 0);
        Buffer e2 = all.slice(2, 0);
        b.sigmoidForward(e1, e2);
        b.sigmoidBackward(e1, e2, e1);
        b.sgdUpdate(e1, e2, 0.5);
        b.upload(new double[0], e1);
        assertArrayEquals(new double[0], b.download(e2));
        Buffer c = b.allocate(4);
        b.upload(new double[] {1, 2, 3, 4}, c);
        b.gemm(false, true, 2, 2, 0, 1, e1, 1, e2, 1, 0.5, c, 2); // k = 0: C = beta * C
        double[] out = new double[7];
        System.arraycopy(b.download(all), 0, out, 0, 3);
        System.arraycopy(b.download(c), 0, out, 3, 4);
        return out;
    }

    @Test
    void zeroElementOperationsAreNoOpsAsOnTheCpu() {
        for (Precision p : Precision.values()) {
            double[] cpu;
            try (Backend ref = new CpuBackendProvider().create(p)) {
                cpu = zeroSizedWork(ref);
            }
            assertArrayEquals(new double[] {7, 8, 9, 0.5, 1, 1.5, 2}, cpu);
            for (boolean cublas : gemmPaths()) {
                try (Backend cuda = CudaBackendProvider.create(p, cublas)) {
                    assertArrayEquals(cpu, zeroSizedWork(cuda), cuda.description());
                    // Inside a capture too: an empty operation adds nothing and breaks nothing.
                    Buffer x = cuda.allocate(2);
                    Buffer y = cuda.allocate(2);
                    try (Backend.Replay r = cuda.record(() -> {
                        cuda.sigmoidForward(x.slice(0, 0), y.slice(0, 0));
                        cuda.sigmoidForward(x, y);
                    })) {
                        r.replay();
                        assertArrayEquals(new double[] {0.5, 0.5}, cuda.download(y), cuda.description());
                    }
                }
            }
        }
    }

    @Test
    void closingABufferWhileRecordingIsRefusedAndTheCaptureEnds() {
        try (Backend cuda = CudaBackendProvider.create(Precision.FLOAT32, false)) {
            Buffer x = cuda.allocate(2);
            Buffer y = cuda.allocate(2);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> cuda.record(() -> {
                cuda.sigmoidForward(x, y);
                y.close();
            }));
            assertEquals("closing a buffer is not allowed while recording a replay", e.getMessage());
            assertFalse(y.isClosed());
            // The stream left capture mode: plain work and a new recording both run.
            cuda.upload(new double[] {0, 0}, x);
            cuda.sigmoidForward(x, y);
            assertArrayEquals(new double[] {0.5, 0.5}, cuda.download(y));
            try (Backend.Replay r = cuda.record(() -> cuda.sgdUpdate(x, y, 2))) {
                r.replay();
            }
            assertArrayEquals(new double[] {-1, -1}, cuda.download(x));
            y.close();
            assertTrue(y.isClosed());
        }
    }

    /** Free device memory, read in a context of our own (the device's primary one, retained for the test). */
    private static long freeBytes() {
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuCtxSynchronize();
        JCudaDriver.cuMemGetInfo(free, total);
        return free[0];
    }

    @Test
    void aConstructorThatFailsReleasesEverythingItMade() {
        CudaProbe.Result probe = CudaProbe.get();
        CUdevice dev = new CUdevice();
        CUcontext ctx = new CUcontext();
        JCudaDriver.cuDeviceGet(dev, probe.chosen());
        JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev); // keeps the context alive, so what leaks would stay visible
        try {
            for (boolean cublas : gemmPaths()) {
                CudaProbe.GemmPath path = cublas ? probe.gemm() : new CudaProbe.GemmPath(false, "test");
                JCudaDriver.cuCtxSetCurrent(ctx);
                // Warm up once (first-use allocations of the driver and cuBLAS), then measure.
                new CudaBackend(Precision.FLOAT32, probe, path).close();
                JCudaDriver.cuCtxSetCurrent(ctx);
                long before = freeBytes();
                for (int i = 0; i < 8; i++) {
                    RuntimeException planned = new IllegalStateException("planned failure");
                    RuntimeException e = assertThrows(RuntimeException.class,
                            () -> new CudaBackend(Precision.FLOAT32, probe, path, () -> {
                                throw planned;
                            }));
                    assertSame(planned, e);
                    assertEquals(0, e.getSuppressed().length, "every release succeeded");
                }
                JCudaDriver.cuCtxSetCurrent(ctx);
                long after = freeBytes();
                // Eight leaked constructions would hold eight sets of kernels and (cuBLAS) 8 x 32 MiB of workspace.
                assertTrue(before - after < (4L << 20), "device memory lost: " + (before - after) + " bytes, "
                        + path.line());
                // And a normal backend still works afterwards.
                try (Backend b = new CudaBackend(Precision.FLOAT32, probe, path)) {
                    Buffer x = b.allocate(1);
                    b.sigmoidForward(x, x);
                    assertArrayEquals(new double[] {0.5}, b.download(x));
                }
            }
        } finally {
            JCudaDriver.cuDevicePrimaryCtxRelease(dev);
        }
    }
}

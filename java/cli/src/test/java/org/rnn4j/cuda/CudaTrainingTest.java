package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.cli.Main;

/** Whole runs on the GPU: {@code --check} passes for both networks in both precisions; resources are released. */
@RequiresCuda
class CudaTrainingTest {

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"rnn, float64", "rnn, float32", "lstm, float64", "lstm, float32"})
    void checkPasses(String network, String precision) {
        String[] r = run("train", network, "--check", "--precision", precision);
        System.out.println(r[1]);
        assertEquals("0", r[0], r[1] + r[2]);
        assertTrue(r[1].contains("result: pass"), r[1]);
    }

    @Test
    void trainingOnCudaSaysSoAndReachesTheSeedsResult() {
        String[] r = run("train", "rnn", "--backend", "cuda", "--precision", "float64");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("CUDA on "), r[1]);
        assertTrue(r[1].contains("GEMM: "), "the GEMM path is named at the start: " + r[1]);
        assertTrue(r[1].contains("accuracy: 16384 of 16384"), r[1]);
        assertEquals("", r[2], "no fallback note when CUDA runs");
    }

    @Test
    void devicesListsTheGpuAndTheGemmPath() {
        String[] r = run("devices");
        assertEquals("0", r[0]);
        assertTrue(r[1].contains("cuda  usable"), r[1]);
        assertTrue(r[1].contains("compute capability"), r[1]);
        assertTrue(r[1].contains("GEMM: "), r[1]);
        assertTrue(r[1].contains("auto  picks cuda"), r[1]);
    }

    @Test
    void closingReleasesDeviceMemoryAndUseAfterCloseFails() {
        // The keeper holds the primary context, so that closing the backend under test must free its memory itself
        // (the context's destruction would free everything and prove nothing).
        try (Backend keeper = new CudaBackendProvider().create(Precision.FLOAT32)) {
            long before = freeBytes(keeper);
            Backend b = new CudaBackendProvider().create(Precision.FLOAT64);
            Buffer big = b.allocate(64 << 20); // 512 MiB
            b.upload(new double[] {1, 2, 3}, big.slice(5, 3));
            assertEquals(2.0, b.download(big.slice(6, 1))[0]);
            assertTrue(freeBytes(keeper) < before - (400L << 20), "the allocation shows in the free memory");
            b.close();
            assertTrue(freeBytes(keeper) > before - (64L << 20), "closing the backend released its memory");
            assertThrows(IllegalStateException.class, () -> b.allocate(1));
            assertThrows(IllegalStateException.class, () -> big.slice(0, 1));
            b.close(); // idempotent
        }
    }

    @Test
    void cudaGraphsGiveTheNumbersOfPlainLaunches() {
        for (Precision p : Precision.values()) {
            try (Backend b = new CudaBackendProvider().create(p)) {
                try (Backend.Replay r = b.record(() -> { })) {
                    assertTrue(r.recorded(), "a CUDA graph was captured");
                }
                var plain = org.rnn4j.train.RnnTrainer.train(b,
                        new org.rnn4j.train.RnnTrainer.Config(2, 16, 500, 0.1, 8, false), j -> false, r -> { });
                var graphs = org.rnn4j.train.RnnTrainer.train(b,
                        new org.rnn4j.train.RnnTrainer.Config(2, 16, 500, 0.1, 8, true), j -> false, r -> { });
                try (var x = plain.network(); var y = graphs.network()) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(x.parameters(), y.parameters(),
                            "same kernels in the same order: the same bits (" + p + ")");
                }
                double[] targets = {-0.5, 0.2, 0.1, -0.5};
                var lstmPlain = org.rnn4j.train.LstmTrainer.trainStandard(b,
                        new org.rnn4j.train.LstmTrainer.Config(0, 32, 16, targets, 200, 0.1, false), j -> false,
                        r -> { });
                var lstmGraphs = org.rnn4j.train.LstmTrainer.trainStandard(b,
                        new org.rnn4j.train.LstmTrainer.Config(0, 32, 16, targets, 200, 0.1, true), j -> false,
                        r -> { });
                try (var x = lstmPlain.network(); var y = lstmGraphs.network()) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(x.parameters(), y.parameters(),
                            "the LSTM trainer's replayed iteration: the same bits (" + p + ")");
                }
            }
        }
    }

    @Test
    void deviceMemoryDoesNotGrowWhileTraining() {
        try (Backend b = new CudaBackendProvider().create(Precision.FLOAT32)) {
            long[] free = new long[2];
            long[] allocated = new long[2];
            int[] seen = {0};
            var trained = org.rnn4j.train.RnnTrainer.train(b, new org.rnn4j.train.RnnTrainer.Config(0, 64, 3000, 0.1,
                    32), j -> j == 100 || j == 2999, r -> {
                        free[seen[0]] = freeBytes(b);
                        allocated[seen[0]] = ((org.rnn4j.backend.spi.AbstractBackend) b).allocatedBytes();
                        seen[0]++;
                    });
            trained.network().close();
            assertEquals(2, seen[0]);
            assertEquals(allocated[0], allocated[1], "no buffer was allocated during training");
            assertTrue(Math.abs(free[1] - free[0]) < (1L << 20),
                    "device free memory moved by " + (free[1] - free[0]) + " bytes over 2900 iterations");
        }
    }

    @Test
    void deviceFreeBytesSeesAnAllocationAndALossThatGoesBadStopsTraining() {
        try (Backend b = new CudaBackendProvider().create(Precision.FLOAT32)) {
            long before = b.deviceFreeBytes().orElseThrow();
            Buffer big = b.allocate(64 << 20); // 256 MiB of float32
            long after = b.deviceFreeBytes().orElseThrow();
            assertTrue(before - after >= 256L << 20, "free memory fell by " + (before - after) + " bytes");
            big.close();
        }
        // the memory refusal and the non-finite stop run on the device as on the CPU: the loss is NaN from iteration 1
        String[] r = run("train", "lstm", "--backend", "cuda", "--targets", "100,-100", "--lr", "3e38",
                "--iterations", "100", "--report-every", "50", "--quiet");
        assertEquals("1", r[0], r[1] + r[2]);
        assertTrue(r[2].startsWith("rnn4j: training stopped: the loss became NaN at iteration 1;"), r[2]);
    }

    private static long freeBytes(Backend current) {
        current.synchronize(); // makes its context current on this thread
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return free[0];
    }
}

package org.rnn4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.net.LstmLayer;

/**
 * The trainers' memory estimates are what they allocate on the backend, and a configuration that does not fit is
 * refused before anything is allocated, naming the bytes needed and available.
 */
class MemoryNeedTest {

    private static AbstractBackend cpu(Precision p) {
        return (AbstractBackend) new CpuBackendProvider().create(p);
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void theEstimateIsWhatTrainingAllocates(Precision p) {
        for (LstmLayer.Cell cell : LstmLayer.Cell.values()) {
            for (int iterations : new int[] {3, LossHistory.WINDOW + 5}) {
                var config = new LstmTrainer.Config(0, 7, 5, new double[] {0.1, 0.2, 0.3}, iterations, 0.1);
                try (AbstractBackend b = cpu(p)) {
                    long[] seen = {-1};
                    TrainingListener<LstmTrainer.Report> listener = r -> seen[0] = b.allocatedBytes();
                    (cell == LstmLayer.Cell.SEED ? LstmTrainer.train(b, config, j -> j == 0, listener)
                            : LstmTrainer.trainStandard(b, config, j -> j == 0, listener)).network().close();
                    assertEquals(LstmTrainer.memoryNeeded(cell, config, p).backendBytes(), seen[0],
                            cell + " cell, " + iterations + " iterations");
                }
            }
        }
        var config = new RnnTrainer.Config(0, 9, 3, 0.1, 4);
        try (AbstractBackend b = cpu(p)) {
            long[] seen = {-1};
            RnnTrainer.train(b, config, j -> j == 0, r -> seen[0] = b.allocatedBytes()).network().close();
            assertEquals(RnnTrainer.memoryNeeded(config, p).backendBytes(), seen[0]);
        }
        try (AbstractBackend b = cpu(p); BinaryAdditionRnn net = new BinaryAdditionRnn(b, 9);
             BinaryAdditionRnn.Workspace ws = net.workspace(RnnTrainer.ALL_PAIRS)) {
            assertEquals(RnnTrainer.accuracyMemoryNeeded(9, p).backendBytes(), b.allocatedBytes());
        }
    }

    @Test
    void whatDoesNotFitIsRefusedNamingTheBytes() {
        MemoryNeed need = new MemoryNeed("a test configuration", 3_000_000_000L, 1_000_000_000L);
        // on the CPU both parts come from the heap
        InsufficientMemoryException heap = assertThrows(InsufficientMemoryException.class,
                () -> need.require(OptionalLong.empty(), wanted -> 3_999_999_999L));
        assertTrue(heap.heap());
        assertEquals(4_000_000_000L, heap.needed());
        assertEquals(3_999_999_999L, heap.available());
        assertTrue(heap.getMessage().startsWith("a test configuration needs about 4,000,000,000 bytes (3.7 GiB) of "
                + "Java heap (3,000,000,000 for the backend's buffers, 1,000,000,000 for host arrays), but "
                + "3,999,999,999 bytes (3.7 GiB) are available; use smaller sizes or a larger heap: JAVA_OPTS=-Xmx"),
                heap.getMessage());
        assertTrue(heap.getMessage().matches(".*-Xmx[0-9]+g"), heap.getMessage());
        need.require(OptionalLong.empty(), wanted -> 4_000_000_000L); // exactly enough
        // on a device, the buffers against its free memory, the host arrays against the heap
        InsufficientMemoryException device = assertThrows(InsufficientMemoryException.class,
                () -> need.require(OptionalLong.of(2_999_999_999L), wanted -> Long.MAX_VALUE));
        assertTrue(!device.heap());
        assertTrue(device.getMessage().contains("of device memory, but the device has 2,999,999,999 bytes"),
                device.getMessage());
        InsufficientMemoryException host = assertThrows(InsufficientMemoryException.class,
                () -> need.require(OptionalLong.of(3_000_000_000L), wanted -> 999_999_999L));
        assertEquals(1_000_000_000L, host.needed());
        need.require(OptionalLong.of(3_000_000_000L), wanted -> 1_000_000_000L);
    }

    @Test
    void theTrainerRefusesBeforeAllocatingAnything() {
        // float64, hidden 16000, input 500, 16000 steps: about 52 GB; every single buffer would fit an int
        var config = new LstmTrainer.Config(0, 16000, 500, new double[16000], 1, 0.1);
        MemoryNeed need = LstmTrainer.memoryNeeded(LstmLayer.Cell.STANDARD, config, Precision.FLOAT64);
        Assumptions.assumeTrue(need.backendBytes() + need.hostBytes() > Runtime.getRuntime().maxMemory(),
                "this JVM's heap could hold the configuration; the refusal cannot be shown without allocating it");
        try (AbstractBackend b = cpu(Precision.FLOAT64)) {
            InsufficientMemoryException e = assertThrows(InsufficientMemoryException.class,
                    () -> LstmTrainer.trainStandard(b, config, j -> true, r -> { }));
            assertEquals(need.backendBytes() + need.hostBytes(), e.needed());
            assertEquals(0, b.allocatedBytes(), "nothing was allocated");
        }
    }
}

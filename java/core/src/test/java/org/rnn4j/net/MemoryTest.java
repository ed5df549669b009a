package org.rnn4j.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.rng.NumpyRandom;

/**
 * The memory a configuration needs is what docs/memory.md says (parameters and gradients, plus activations growing
 * with T*B*H), and training does not grow it: the backend's live allocations stay the same from iteration to
 * iteration, and so does the Java heap.
 */
class MemoryTest {

    private static AbstractBackend cpu(Precision p) {
        return (AbstractBackend) new CpuBackendProvider().create(p);
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void allocationsAreWhatTheFormulasSay(Precision p) {
        for (int[] s : new int[][] {{1, 1}, {7, 16}, {64, 33}}) {
            int batch = s[0];
            int hidden = s[1];
            try (AbstractBackend b = cpu(p); BinaryAdditionRnn net = new BinaryAdditionRnn(b, hidden);
                 BinaryAdditionRnn.Workspace ws = net.workspace(batch)) {
                long want = (2 * BinaryAdditionRnn.parameterCount(hidden)
                        + BinaryAdditionRnn.workspaceElements(batch, hidden)) * p.bytes();
                assertEquals(want, b.allocatedBytes(), "rnn B=" + batch + " H=" + hidden);
            }
        }
        for (int[] s : new int[][] {{1, 1, 1, 1}, {5, 3, 7, 4}, {16, 8, 33, 20}}) {
            int steps = s[0];
            int batch = s[1];
            int input = s[2];
            int hidden = s[3];
            try (AbstractBackend b = cpu(p); LstmLayer net = new LstmLayer(b, input, hidden);
                 LstmLayer.Workspace ws = net.workspace(steps, batch)) {
                long want = (2 * LstmLayer.parameterCount(input, hidden)
                        + LstmLayer.workspaceElements(steps, batch, input, hidden)) * p.bytes();
                assertEquals(want, b.allocatedBytes(), "lstm T=" + steps + " B=" + batch + " X=" + input);
            }
            try (AbstractBackend b = cpu(p); LstmLayer net = new LstmLayer(b, LstmLayer.Cell.SEED, input, hidden);
                 LstmLayer.Workspace ws = net.workspace(steps, batch)) {
                long want = (2 * LstmLayer.parameterCount(LstmLayer.Cell.SEED, input, hidden)
                        + LstmLayer.workspaceElements(steps, batch, input, hidden)) * p.bytes();
                assertEquals(want, b.allocatedBytes(), "seed-cell layer T=" + steps + " B=" + batch);
            }
            try (AbstractBackend b = cpu(p); SeedLstm net = new SeedLstm(b, hidden, input);
                 SeedLstm.Workspace ws = net.workspace(steps, batch)) {
                long want = (2 * SeedLstm.parameterCount(input, hidden)
                        + SeedLstm.workspaceElements(steps, batch, input, hidden)) * p.bytes();
                assertEquals(want, b.allocatedBytes(), "seed lstm T=" + steps + " B=" + batch + " X=" + input);
            }
        }
    }

    private static long heapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }

    @Test
    void trainingDoesNotGrowMemory() {
        try (AbstractBackend b = cpu(Precision.FLOAT32); BinaryAdditionRnn rnn = new BinaryAdditionRnn(b, 16);
             BinaryAdditionRnn.Workspace rws = rnn.workspace(4); LstmLayer lstm = new LstmLayer(b, 8, 16);
             LstmLayer.Workspace lws = lstm.workspace(10, 4)) {
            NumpyRandom rng = new NumpyRandom(1);
            rnn.initLikeSeed(rng);
            lstm.initLikePyTorch(rng);
            double[] x = new double[10 * 4 * 8];
            rng.randomSample(x);
            lws.setInputs(x);
            double[] r = new double[10 * 4 * 16];
            rng.randomSample(r);
            lws.setOutputGrads(r);
            int[] a = {1, 2, 3, 4};
            int[] c = {5, 6, 7, 8};
            Runnable iteration = () -> {
                rws.setProblems(a, c);
                rnn.trainStep(rws, 0.1);
                lstm.forward(lws);
                lstm.backward(lws);
                lstm.sgdStep(0.01);
            };
            for (int i = 0; i < 200; i++) {
                iteration.run(); // warm up: JIT, GEMM scratch at its largest
            }
            long allocated = b.allocatedBytes();
            long heap = heapAfterGc();
            for (int i = 0; i < 3000; i++) {
                iteration.run();
            }
            assertEquals(allocated, b.allocatedBytes(), "the backend allocated nothing during training");
            long grown = heapAfterGc() - heap;
            assertTrue(grown < 8L << 20, "the heap grew by " + grown + " bytes over 3000 iterations");
        }
    }

    @Test
    void closingReleasesEverything() {
        AbstractBackend b = cpu(Precision.FLOAT64);
        LstmLayer net = new LstmLayer(b, 4, 4);
        LstmLayer.Workspace ws = net.workspace(3, 2);
        Buffer extra = b.allocate(10);
        assertTrue(b.allocatedBytes() > 0);
        ws.close();
        net.close();
        assertEquals(10L * Double.BYTES, b.allocatedBytes(), "only the extra buffer is left");
        extra.close();
        assertEquals(0, b.allocatedBytes());
        b.close();
    }
}

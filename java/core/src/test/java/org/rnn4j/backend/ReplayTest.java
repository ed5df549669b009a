package org.rnn4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.train.LstmTrainer;
import org.rnn4j.train.NonFiniteLossException;
import org.rnn4j.train.RnnTrainer;

/**
 * {@link Backend#record}: what may happen while recording, replays reading new data, closing; and training with
 * recorded steps giving the same numbers as without. (On the CPU a replay runs the body again; the CUDA graph
 * version is checked against plain launches by the gpu tests.)
 */
class ReplayTest {

    @Test
    void recordingRefusesTransfersAndAllocationsAndLeavesTheBackendUsable() {
        try (Backend b = new CpuBackend64()) {
            Buffer x = b.allocate(3);
            double[] host = {1, 2, 3};
            for (Runnable bad : new Runnable[] {() -> b.upload(host, x), () -> b.download(x), b::synchronize,
                    () -> b.allocate(1), () -> b.record(() -> { })}) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.record(bad));
                assertTrue(e.getMessage().contains("not allowed while recording"), e.getMessage());
            }
            b.upload(host, x); // usable again
            assertArrayEquals(host, b.download(x));
        }
    }

    @Test
    void closingABufferOrTheBackendWhileRecordingIsRefused() {
        try (Backend b = new CpuBackend64()) {
            Buffer x = b.allocate(2);
            Buffer y = b.allocate(2);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> b.record(() -> {
                        b.sigmoidForward(x, y);
                        y.close();
                    }));
            assertEquals("closing a buffer is not allowed while recording a replay", e.getMessage());
            assertFalse(y.isClosed(), "the refused close released nothing");
            e = assertThrows(IllegalStateException.class, () -> b.record(b::close));
            assertEquals("closing the backend is not allowed while recording a replay", e.getMessage());
            // A view owns nothing: closing one does nothing, so it is not refused; nor is a buffer already closed.
            Buffer spare = b.allocate(1);
            spare.close();
            b.record(() -> {
                x.slice(0, 1).close();
                spare.close();
            }).close();
            // Afterwards all is as before: the buffers work and close.
            b.upload(new double[] {0, 0}, x);
            b.sigmoidForward(x, y);
            assertArrayEquals(new double[] {0.5, 0.5}, b.download(y));
            y.close();
            assertTrue(y.isClosed());
        }
    }

    @Test
    void aReplayReadsWhatWasUploadedSinceAndDiesWithItsBackend() {
        Backend b = new CpuBackend64();
        Buffer x = b.allocate(2);
        Buffer y = b.allocate(2);
        Backend.Replay r = b.record(() -> b.sigmoidForward(x, y));
        assertFalse(r.recorded(), "the CPU replays by running the body");
        b.upload(new double[] {0, 0}, x);
        r.replay();
        assertArrayEquals(new double[] {0.5, 0.5}, b.download(y));
        b.upload(new double[] {100, -100}, x);
        r.replay();
        assertEquals(1.0, b.download(y)[0]);
        b.close();
        assertThrows(IllegalStateException.class, r::replay);
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend64().record(null));
    }

    @Test
    void lstmTrainingWithRecordedIterationsGivesTheSameNumbersBitForBit() {
        for (Backend b : new Backend[] {new CpuBackend64(), new org.rnn4j.backend.cpu.CpuBackend32()}) {
            try (b) {
                for (boolean standard : new boolean[] {false, true}) {
                    List<double[]> plainLosses = new ArrayList<>();
                    List<double[]> graphLosses = new ArrayList<>();
                    double[] targets = {-0.5, 0.2, 0.1, -0.5, 0.3};
                    var plainConfig = new LstmTrainer.Config(3, 6, 4, targets, 40, 0.1, false);
                    var graphConfig = new LstmTrainer.Config(3, 6, 4, targets, 40, 0.1, true);
                    var plain = standard
                            ? LstmTrainer.trainStandard(b, plainConfig, j -> true,
                                    r -> plainLosses.add(report(r)))
                            : LstmTrainer.train(b, plainConfig, j -> true, r -> plainLosses.add(report(r)));
                    var graphs = standard
                            ? LstmTrainer.trainStandard(b, graphConfig, j -> true,
                                    r -> graphLosses.add(report(r)))
                            : LstmTrainer.train(b, graphConfig, j -> true, r -> graphLosses.add(report(r)));
                    try (LstmLayer p = plain.network(); LstmLayer g = graphs.network()) {
                        String what = b.precision() + (standard ? " standard" : " seed");
                        assertArrayEquals(p.parameters(), g.parameters(), what);
                        assertEquals(40, graphLosses.size(), what);
                        for (int j = 0; j < 40; j++) {
                            assertArrayEquals(plainLosses.get(j), graphLosses.get(j), what + " iteration " + j);
                        }
                        assertTrue(plainLosses.get(39)[0] < plainLosses.get(0)[0], what + ": it learns");
                    }
                }
            }
        }
    }

    /** A report's loss then predictions, for comparison bit for bit. */
    private static double[] report(LstmTrainer.Report r) {
        double[] v = new double[1 + r.predictions().length];
        v[0] = r.loss();
        System.arraycopy(r.predictions(), 0, v, 1, r.predictions().length);
        return v;
    }

    @Test
    void lstmTrainingWithGraphsStillStopsAtTheFirstNonFiniteLoss() {
        try (Backend b = new CpuBackend64()) {
            var config = new LstmTrainer.Config(0, 4, 3, new double[] {1e300, 0.2}, 10, 0.1, true);
            NonFiniteLossException e = assertThrows(NonFiniteLossException.class,
                    () -> LstmTrainer.train(b, config, j -> false, r -> { }));
            assertTrue(e.getMessage().contains("iteration"), e.getMessage());
        }
    }

    @Test
    void trainingWithRecordedStepsGivesTheSameNumbers() {
        try (Backend b = new CpuBackend64()) {
            var plain = RnnTrainer.train(b, new RnnTrainer.Config(2, 8, 300, 0.1, 4, false), j -> false, r -> { });
            var graphs = RnnTrainer.train(b, new RnnTrainer.Config(2, 8, 300, 0.1, 4, true), j -> false, r -> { });
            try (BinaryAdditionRnn p = plain.network(); BinaryAdditionRnn g = graphs.network()) {
                assertArrayEquals(p.parameters(), g.parameters());
            }
        }
    }
}

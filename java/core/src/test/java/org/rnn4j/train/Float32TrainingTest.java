package org.rnn4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.net.LstmLayer;

/** The seeds' default runs in float32, rnn4j's default precision, still learn their tasks. */
class Float32TrainingTest {

    @Test
    void rnnAtTheSeedDefaultsAddsEveryPair() {
        try (Backend backend = new CpuBackendProvider().create(Precision.FLOAT32)) {
            assertEquals(Precision.FLOAT32, backend.precision());
            List<RnnTrainer.Report> reports = new ArrayList<>();
            Trained<BinaryAdditionRnn> trained = RnnTrainer.train(backend, RnnTrainer.Config.seedDefaults(),
                    j -> j % 1000 == 0, reports::add);
            try (BinaryAdditionRnn net = trained.network()) {
                RnnTrainer.Accuracy acc = RnnTrainer.accuracy(net);
                assertEquals(16384, acc.total());
                assertEquals(16384, acc.correct(), "float32 must add all 16384 pairs exactly");
                assertEquals(10, reports.size());
                // The first problem is the seed's 9 + 60, drawn from the same generator whatever the precision
                assertEquals(9, reports.get(0).a());
                assertEquals(60, reports.get(0).b());
            }
        }
    }

    @Test
    void rnnAccuracyIsMeasuredNotAssumed() {
        // An untrained network (one iteration) must not pass for a trained one.
        try (Backend backend = new CpuBackendProvider().create(Precision.FLOAT32)) {
            var config = new RnnTrainer.Config(0, 16, 1, 0.1);
            try (BinaryAdditionRnn net = RnnTrainer.train(backend, config, j -> false, r -> { }).network()) {
                RnnTrainer.Accuracy acc = RnnTrainer.accuracy(net);
                assertTrue(acc.fraction() < 0.05, "accuracy after one iteration: " + acc.fraction());
                int[] p = acc.predictions();
                int wrong = 0;
                for (int i = 0; i < p.length; i++) {
                    wrong += p[i] == i / 128 + i % 128 ? 0 : 1;
                }
                assertEquals(acc.total() - acc.correct(), wrong);
            }
        }
    }

    @Test
    void lstmAtTheSeedDefaultsReachesASmallLoss() {
        try (Backend backend = new CpuBackendProvider().create(Precision.FLOAT32)) {
            List<LstmTrainer.Report> reports = new ArrayList<>();
            Trained<LstmLayer> trained = LstmTrainer.train(backend, LstmTrainer.Config.seedDefaults(), j -> true,
                    reports::add);
            try (LstmLayer ignored = trained.network()) {
                assertEquals(100, reports.size());
                double first = reports.get(0).loss();
                double last = reports.get(99).loss();
                assertEquals(0.7534838862531601, first, 1e-5, "float32 starts where the seed starts");
                assertTrue(last < 1e-4, "final float32 loss " + last);
                double[] targets = LstmTrainer.Config.seedDefaults().targets();
                double[] predictions = reports.get(99).predictions();
                for (int t = 0; t < targets.length; t++) {
                    assertEquals(targets[t], predictions[t], 1e-2, "step " + t);
                }
            }
        }
    }
}

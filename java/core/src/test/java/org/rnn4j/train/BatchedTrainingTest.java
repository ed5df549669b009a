package org.rnn4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.net.BinaryAdditionRnn;

/** {@code train rnn --batch B}: problems drawn in order, the batch's average gradient, B = 1 the seed exactly. */
class BatchedTrainingTest {

    private static List<RnnTrainer.Report> reports(Backend backend, RnnTrainer.Config config) {
        List<RnnTrainer.Report> out = new ArrayList<>();
        RnnTrainer.train(backend, config, j -> true, out::add).network().close();
        return out;
    }

    @Test
    void problemsAreDrawnInOrderFromTheSameGenerator() {
        try (Backend cpu = new CpuBackend64()) {
            List<RnnTrainer.Report> one = reports(cpu, new RnnTrainer.Config(5, 8, 6, 0.1, 1));
            List<RnnTrainer.Report> two = reports(cpu, new RnnTrainer.Config(5, 8, 3, 0.1, 2));
            // iteration j of batch 2 starts with the pair iteration 2j of batch 1 drew
            for (int j = 0; j < 3; j++) {
                assertEquals(one.get(2 * j).a(), two.get(j).a());
                assertEquals(one.get(2 * j).b(), two.get(j).b());
            }
        }
    }

    @Test
    void batchOneIsTheSeedAndABatchOfCopiesStepsLikeOneProblem() {
        try (Backend cpu = new CpuBackend64()) {
            // The 4-argument config is batch 1: identical runs, bit for bit
            var seed = RnnTrainer.train(cpu, new RnnTrainer.Config(1, 8, 50, 0.1), j -> false, r -> { });
            var b1 = RnnTrainer.train(cpu, new RnnTrainer.Config(1, 8, 50, 0.1, 1), j -> false, r -> { });
            try (BinaryAdditionRnn x = seed.network(); BinaryAdditionRnn y = b1.network()) {
                assertArrayEquals(x.parameters(), y.parameters());
            }
        }
    }

    @Test
    void theStepIsTheBatchAverage() {
        // One step on a batch of B copies of a problem equals one step on the problem alone: the average of B equal
        // gradients is that gradient (up to the rounding of B equal additions and one division).
        try (Backend cpu = new CpuBackend64(); BinaryAdditionRnn single = new BinaryAdditionRnn(cpu, 6);
             BinaryAdditionRnn batched = new BinaryAdditionRnn(cpu, 6)) {
            single.initLikeSeed(new org.rnn4j.rng.NumpyRandom(3));
            batched.setParameters(single.parameters());
            int batch = 5;
            try (var ws1 = single.workspace(1); var wsB = batched.workspace(batch)) {
                ws1.setProblems(new int[] {37}, new int[] {90});
                wsB.setProblems(new int[] {37, 37, 37, 37, 37}, new int[] {90, 90, 90, 90, 90});
                single.trainStep(ws1, 0.5);
                batched.trainStep(wsB, 0.5 / batch);
            }
            double[] a = single.parameters();
            double[] b = batched.parameters();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-14 * Math.max(1, Math.abs(a[i])), "parameter " + i);
            }
        }
    }

    @Test
    void batchedTrainingLearnsToAdd() {
        try (Backend cpu = new CpuBackend32()) {
            var trained = RnnTrainer.train(cpu, new RnnTrainer.Config(0, 16, 10000, 0.1, 64), j -> false, r -> { });
            try (BinaryAdditionRnn net = trained.network()) {
                RnnTrainer.Accuracy acc = RnnTrainer.accuracy(net);
                assertEquals(1.0, acc.fraction(), "batch 64 adds every pair: " + acc.correct() + " of " + acc.total());
            }
        }
    }

    @Test
    void batchMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RnnTrainer.Config(0, 16, 10, 0.1, 0));
        assertTrue(e.getMessage().contains("batch"), e.getMessage());
    }
}

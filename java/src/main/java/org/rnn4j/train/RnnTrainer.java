package org.rnn4j.train;

import java.util.function.IntPredicate;
import org.rnn4j.backend.Backend;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.rng.NumpyRandom;

/**
 * Trains {@link BinaryAdditionRnn} the way the seed does: seed the generator, draw the three weight matrices, then per
 * iteration draw {@code a = randint(128)}, {@code b = randint(128)} and take one SGD step on {@code a + b}.
 */
public final class RnnTrainer {

    /** Settings; the defaults are the seed's. */
    public record Config(long seed, int hidden, int iterations, double learningRate) {
        public static Config seedDefaults() {
            return new Config(0, 16, 10000, 0.1);
        }
    }

    /**
     * What an observed iteration saw: the seed's {@code overallError}, its answer {@code predicted} to {@code a + b}
     * (the rounded output bits), and the true sum.
     */
    public record Report(int iteration, double error, int a, int b, int predicted) {
        public int sum() {
            return a + b;
        }

        /** The bits of {@code value}, most significant first, as the seed prints them. */
        public static int[] bits(int value) {
            int[] bits = new int[BinaryAdditionRnn.BITS];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = (value >> (bits.length - 1 - i)) & 1;
            }
            return bits;
        }
    }

    private RnnTrainer() {
    }

    /**
     * Creates the network on {@code backend}, initialised as the seed does, and trains it; the caller closes the
     * returned network.
     *
     * @param observe which iterations to report (each costs a wait for the device)
     */
    public static Trained<BinaryAdditionRnn> train(Backend backend, Config config, IntPredicate observe,
                                                    TrainingListener<Report> listener) {
        NumpyRandom rng = new NumpyRandom(config.seed());
        BinaryAdditionRnn net = new BinaryAdditionRnn(backend, config.hidden());
        try (BinaryAdditionRnn.Workspace ws = net.workspace(1)) {
            net.initLikeSeed(rng);
            int[] a = new int[1];
            int[] b = new int[1];
            long start = System.nanoTime();
            for (int j = 0; j < config.iterations(); j++) {
                a[0] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
                b[0] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
                ws.setProblems(a, b);
                net.trainStep(ws, config.learningRate());
                if (observe.test(j)) {
                    listener.report(new Report(j, ws.absoluteErrors()[0], a[0], b[0], ws.predictions()[0]));
                }
                listener.iterationDone(j);
            }
            backend.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Trained<>(net, new Trained.Timing(config.iterations(), seconds));
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }

    /** How well a trained network adds: over all {@code 128 * 128} pairs, in one batch. */
    public record Accuracy(int correct, int total, int[] predictions) {
        public double fraction() {
            return (double) correct / total;
        }

        /** The network's answer to {@code a + b}. */
        public int predicted(int a, int b) {
            return predictions[a * BinaryAdditionRnn.ADDEND_LIMIT + b];
        }
    }

    /** Runs every pair {@code a, b in [0, 128)} through the network at once and counts the exact sums. */
    public static Accuracy accuracy(BinaryAdditionRnn net) {
        int n = BinaryAdditionRnn.ADDEND_LIMIT;
        int[] a = new int[n * n];
        int[] b = new int[n * n];
        for (int i = 0; i < n * n; i++) {
            a[i] = i / n;
            b[i] = i % n;
        }
        try (BinaryAdditionRnn.Workspace ws = net.workspace(n * n)) {
            ws.setProblems(a, b);
            net.forward(ws, false);
            int[] predicted = ws.predictions();
            int correct = 0;
            for (int i = 0; i < predicted.length; i++) {
                if (predicted[i] == a[i] + b[i]) {
                    correct++;
                }
            }
            return new Accuracy(correct, predicted.length, predicted);
        }
    }
}

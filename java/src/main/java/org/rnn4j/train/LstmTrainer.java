package org.rnn4j.train;

import java.util.function.IntPredicate;
import org.rnn4j.backend.Backend;
import org.rnn4j.net.SeedLstm;
import org.rnn4j.rng.NumpyRandom;

/**
 * Trains {@link SeedLstm} the way the seed's {@code example_0} does: parameters from {@code rand_arr} (reseeding before
 * every array), then {@code T} input vectors drawn from where the generator was left, one per target, then plain SGD
 * on the same sequence every iteration.
 */
public final class LstmTrainer {

    /** Settings; the defaults are the seed's. */
    public record Config(long seed, int hidden, int inputDim, double[] targets, int iterations, double learningRate) {
        public Config {
            targets = targets.clone();
        }

        public static Config seedDefaults() {
            return new Config(0, 100, 50, new double[] {-0.5, 0.2, 0.1, -0.5}, 100, 0.1);
        }

        @Override
        public double[] targets() {
            return targets.clone();
        }
    }

    /** An observed iteration: {@code h[0]} at every step and the loss summed over the steps. */
    public record Report(int iteration, double[] predictions, double loss) {
    }

    private LstmTrainer() {
    }

    /**
     * Creates the network on {@code backend}, initialised as the seed does, and trains it; the caller closes the
     * returned network.
     *
     * @param observe which iterations to report (each costs a wait for the device)
     */
    public static Trained<SeedLstm> train(Backend backend, Config config, IntPredicate observe,
                                                      TrainingListener<Report> listener) {
        double[] targets = config.targets();
        NumpyRandom rng = new NumpyRandom(config.seed());
        SeedLstm net = new SeedLstm(backend, config.hidden(), config.inputDim());
        try (SeedLstm.Workspace ws = net.workspace(targets.length, 1)) {
            net.initLikeSeed(rng, config.seed());
            double[] inputs = new double[targets.length * config.inputDim()];
            rng.randomSample(inputs); // [np.random.random(x_dim) for _ in y_list], after the last reseed
            ws.setInputs(inputs);
            ws.setTargets(targets);
            long start = System.nanoTime();
            for (int j = 0; j < config.iterations(); j++) {
                net.trainStep(ws, config.learningRate());
                if (observe.test(j)) {
                    listener.report(new Report(j, ws.predictions(), ws.losses()[0]));
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
}

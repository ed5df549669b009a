package org.rnn4j.train;

import java.util.function.IntPredicate;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.net.SeedLstm;
import org.rnn4j.net.StandardLstm;
import org.rnn4j.rng.NumpyRandom;

/**
 * Trains {@link SeedLstm} the way the seed's {@code example_0} does: parameters from {@code rand_arr} (reseeding before
 * every array), then {@code T} input vectors drawn from where the generator was left, one per target, then plain SGD
 * on the same sequence every iteration.
 *
 * <p>The same task runs on the standard cell ({@link #trainStandard}): PyTorch's initialisation drawn from the seeded
 * generator, then the inputs, the same squared loss on {@code h[0]} of every step, plain SGD.
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

    /**
     * The seed's task on the standard LSTM cell ({@link StandardLstm}): parameters {@code U(-1/sqrt(H), 1/sqrt(H))}
     * from the generator seeded with {@code config.seed()}, then the {@code T} input vectors, then per iteration the
     * forward over the sequence, the loss {@code (h_t[0] - y_t)^2} summed over the steps (its gradient entering as
     * {@code dL/dh_t}), the backward and an SGD step. The caller closes the returned network.
     */
    public static Trained<StandardLstm> trainStandard(Backend backend, Config config, IntPredicate observe,
                                                      TrainingListener<Report> listener) {
        double[] targets = config.targets();
        int steps = targets.length;
        int hidden = config.hidden();
        NumpyRandom rng = new NumpyRandom(config.seed());
        StandardLstm net = new StandardLstm(backend, config.inputDim(), hidden);
        try (StandardLstm.Workspace ws = net.workspace(steps, 1);
             Buffer y = backend.allocate(steps);     // (T) targets
             Buffer loss = backend.allocate(1)) {     // the loss summed over the steps
            net.initLikePyTorch(rng);
            double[] inputs = new double[steps * config.inputDim()];
            rng.randomSample(inputs);
            ws.setInputs(inputs);
            backend.upload(targets, y);
            long start = System.nanoTime();
            for (int j = 0; j < config.iterations(); j++) {
                net.forward(ws);
                for (int t = 0; t < steps; t++) {
                    backend.seedLstmSquaredLoss(1, hidden, ws.outputs().slice(t * hidden, hidden), y.slice(t, 1),
                            ws.outputGrads().slice(t * hidden, hidden), loss, t > 0);
                }
                net.backward(ws);
                net.sgdStep(config.learningRate());
                if (observe.test(j)) {
                    // The report shows this iteration's forward, as the seed's does: outputs before the update.
                    double[] h = ws.downloadOutputs(); // (T, 1, H)
                    double[] predictions = new double[steps];
                    for (int t = 0; t < steps; t++) {
                        predictions[t] = h[t * hidden];
                    }
                    listener.report(new Report(j, predictions, backend.download(loss)[0]));
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

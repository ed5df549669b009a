package org.rnn4j.train;

import java.util.Locale;
import java.util.function.IntPredicate;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.rng.NumpyRandom;

/**
 * Trains {@link org.rnn4j.net.SeedLstm} the way the seed's {@code example_0} does: parameters from {@code rand_arr} (reseeding before
 * every array), then {@code T} input vectors drawn from where the generator was left, one per target, then plain SGD
 * on the same sequence every iteration.
 *
 * <p>Both run on {@link LstmLayer}, the layer with the fast algorithm; the same task runs on the standard cell
 * ({@link #trainStandard}): PyTorch's initialisation drawn from the seeded generator, then the inputs, the same squared
 * loss on {@code h[0]} of every step, plain SGD.
 *
 * <p>With {@code graphs}, one iteration (forward, loss, backward, SGD step) is recorded once ({@link Backend#record},
 * a CUDA graph on the GPU) and replayed every iteration: nothing in it changes from one iteration to the next (the
 * sequence, the targets and the learning rate are fixed), except where the loss goes, so the replay writes it into a
 * one-element buffer and each iteration copies it into the loss history's slot. The same operations in the same order,
 * so the same numbers.
 */
public final class LstmTrainer {

    /**
     * Settings; the defaults are the seed's ({@link #seedDefaults()}).
     *
     * @param seed         the seed of numpy's generator, which draws the parameters and then the inputs
     * @param hidden       the hidden size {@code H} (the seed's 100)
     * @param inputDim     the input width {@code X} (the seed's 50)
     * @param targets      the target of {@code h[0]} at each step; its length is the sequence length {@code T}
     * @param iterations   how many SGD steps to take (the seed's 100)
     * @param learningRate the SGD step size (the seed's 0.1)
     * @param graphs       record one iteration and replay it ({@link org.rnn4j.backend.Backend#record}): the same
     *                     numbers, one launch per iteration on a GPU
     */
    public record Config(long seed, int hidden, int inputDim, double[] targets, int iterations, double learningRate,
                         boolean graphs) {
        /**
         * Keeps a copy of {@code targets}.
         *
         * @param seed         the generator's seed
         * @param hidden       the hidden size
         * @param inputDim     the input width
         * @param targets      one target per step, not null
         * @param iterations   the number of steps
         * @param learningRate the step size
         * @param graphs       whether iterations are recorded and replayed
         */
        public Config {
            targets = targets.clone();
        }

        /**
         * Without recorded replays (every operation issued anew each iteration).
         *
         * @param seed         the generator's seed
         * @param hidden       the hidden size
         * @param inputDim     the input width
         * @param targets      one target per step, not null
         * @param iterations   the number of steps
         * @param learningRate the step size
         */
        public Config(long seed, int hidden, int inputDim, double[] targets, int iterations, double learningRate) {
            this(seed, hidden, inputDim, targets, iterations, learningRate, false);
        }

        /**
         * The seed script's settings: seed 0, 100 hidden units, 50 inputs, targets {@code [-0.5, 0.2, 0.1, -0.5]},
         * 100 iterations, learning rate 0.1.
         *
         * @return those settings
         */
        public static Config seedDefaults() {
            return new Config(0, 100, 50, new double[] {-0.5, 0.2, 0.1, -0.5}, 100, 0.1);
        }

        /**
         * The targets, one per step.
         *
         * @return a copy
         */
        @Override
        public double[] targets() {
            return targets.clone();
        }
    }

    /**
     * An observed iteration: {@code h[0]} at every step and the loss summed over the steps.
     *
     * @param iteration   the iteration, 0-based
     * @param predictions {@code h_t[0]} of every step {@code t}, before the iteration's update
     * @param loss        {@code sum_t (h_t[0] - y_t)^2}
     */
    public record Report(int iteration, double[] predictions, double loss) {
    }

    private LstmTrainer() {
    }

    /**
     * The seed's {@code example_0} on the seed cell, run by {@link LstmLayer} (the fast algorithm; its numbers are the
     * seed's, see OracleTraceTest): parameters from {@code rand_arr} (reseeding before every array), then the inputs,
     * then per iteration the forward, the loss {@code (h_t[0] - y_t)^2} summed over the steps, the backward and an SGD
     * step. The caller closes the returned network.
     *
     * <p>Refused before anything is allocated when {@link #memoryNeeded} does not fit
     * ({@link InsufficientMemoryException}). Every iteration's loss is kept on the device and checked whenever the
     * loop waits for the device anyway (at observed iterations, at the end, and at least every
     * 1024 iterations); the first infinite or NaN loss stops training with
     * {@link NonFiniteLossException} naming exactly that iteration, after closing the network. The listener never
     * receives a non-finite loss.
     *
     * @param backend  where to train; its precision decides the arithmetic
     * @param config   the settings
     * @param observe  which iterations to report (each costs a wait for the device)
     * @param listener hears every iteration, and the reports of the observed ones
     * @return the trained layer, which the caller closes, with the loop's timing
     * @throws InsufficientMemoryException when the configuration cannot fit, before anything is allocated
     * @throws NonFiniteLossException      naming the first iteration whose loss is infinite or NaN
     */
    public static Trained<LstmLayer> train(Backend backend, Config config, IntPredicate observe,
                                           TrainingListener<Report> listener) {
        return trainOn(LstmLayer.Cell.SEED, backend, config, observe, listener);
    }

    /**
     * The seed's task on the standard LSTM cell: parameters {@code U(-1/sqrt(H), 1/sqrt(H))} from the generator seeded
     * with {@code config.seed()}, then the inputs, then training as in {@link #train}.
     *
     * @param backend  where to train; its precision decides the arithmetic
     * @param config   the settings
     * @param observe  which iterations to report (each costs a wait for the device)
     * @param listener hears every iteration, and the reports of the observed ones
     * @return the trained layer, which the caller closes, with the loop's timing
     * @throws InsufficientMemoryException when the configuration cannot fit, before anything is allocated
     * @throws NonFiniteLossException      naming the first iteration whose loss is infinite or NaN
     */
    public static Trained<LstmLayer> trainStandard(Backend backend, Config config, IntPredicate observe,
                                                   TrainingListener<Report> listener) {
        return trainOn(LstmLayer.Cell.STANDARD, backend, config, observe, listener);
    }

    /**
     * The memory {@link #train} (seed cell) or {@link #trainStandard} needs for {@code config} in {@code precision},
     * estimated without allocating anything: on the backend the network ({@code 2P}), its workspace, the targets, the
     * loss column and the loss history; on the host the initial parameters as {@code double}s (the seed cell's initialisation also
     * one gate's block), the inputs and one download of the outputs.
     *
     * @param cell      the cell the layer will have
     * @param config    the settings
     * @param precision the backend's precision
     * @return the estimate
     * @throws IllegalArgumentException when the sizes do not even fit a {@code long} count of bytes
     */
    public static MemoryNeed memoryNeeded(LstmLayer.Cell cell, Config config, Precision precision) {
        int steps = config.targets.length;
        int x = config.inputDim();
        int h = config.hidden();
        String what = String.format(Locale.ROOT, "lstm (%s cell), hidden %d, input %d, %d steps, %s",
                cell == LstmLayer.Cell.SEED ? "seed" : "standard", h, x, steps, precision.cliName());
        try {
            long params = LstmLayer.parameterCount(cell, x, h);
            long onBackend = Math.addExact(Math.addExact(Math.multiplyExact(2, params),
                    LstmLayer.workspaceElements(steps, 1, x, h)), 2L * steps + 1 + LossHistory.elements(
                    config.iterations()));
            long initScratch = cell == LstmLayer.Cell.SEED ? Math.multiplyExact(h, x + (long) h) + h : 0;
            long onHost = Math.addExact(Math.addExact(params, initScratch),
                    Math.addExact(Math.multiplyExact(steps, (long) x + h), steps + (long) LossHistory.WINDOW));
            return new MemoryNeed(what, MemoryNeed.bytes(onBackend, precision.bytes(), what),
                    MemoryNeed.bytes(onHost, Double.BYTES, what));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + " is too large: its element counts do not fit 64 bits");
        }
    }

    /**
     * One training iteration: the forward pass, the seed's loss {@code sum_t (h_t[0] - y_t)^2} (its mean into
     * {@code loss}, kept on the device for the finite check), whose gradient {@code 2 (h_t[0] - y_t)} goes into column
     * 0 of the output gradients (their other columns stay zero, as allocated: nothing else writes them), the backward
     * pass and the SGD step. Only operations: it may be recorded.
     */
    private static void iteration(Backend backend, LstmLayer net, LstmLayer.Workspace ws, Buffer h0, Buffer y,
                                  Buffer loss, double learningRate) {
        int steps = h0.length();
        int hidden = net.hidden();
        net.forward(ws);
        backend.copyMatrix(steps, 1, ws.outputs(), hidden, h0, 1);
        backend.mseForward(h0, y, loss);
        backend.mseBackward(h0, y, 2, h0);
        backend.copyMatrix(steps, 1, h0, 1, ws.outputGrads(), hidden);
        net.backward(ws);
        net.sgdStep(learningRate);
    }

    private static Trained<LstmLayer> trainOn(LstmLayer.Cell cell, Backend backend, Config config,
                                              IntPredicate observe, TrainingListener<Report> listener) {
        double[] targets = config.targets();
        int steps = targets.length;
        int hidden = config.hidden();
        memoryNeeded(cell, config, backend.precision()).require(backend);
        NumpyRandom rng = new NumpyRandom(config.seed());
        LstmLayer net = new LstmLayer(backend, cell, config.inputDim(), hidden);
        try (LstmLayer.Workspace ws = net.workspace(steps, 1);
             Buffer y = backend.allocate(steps);     // (T) targets
             Buffer h0 = backend.allocate(steps);    // (T) h_t[0], then the loss's gradient with respect to it
             Buffer replayLoss = backend.allocate(1); // with graphs: the replayed iteration's loss, then copied
             LossHistory losses = new LossHistory(backend, config.iterations(), "loss");
             Backend.Replay replay = config.graphs()
                     ? backend.record(() -> iteration(backend, net, ws, h0, y, replayLoss, config.learningRate()))
                     : null) {
            if (cell == LstmLayer.Cell.SEED) {
                net.initLikeSeed(rng, config.seed());
            } else {
                net.initLikePyTorch(rng);
            }
            double[] inputs = new double[steps * config.inputDim()];
            rng.randomSample(inputs); // [np.random.random(x_dim) for _ in y_list], after the parameters
            ws.setInputs(inputs);
            backend.upload(targets, y);
            double[] yHeld = backend.download(y); // the targets as the backend holds them (rounded in float32)
            boolean f32 = backend.precision() == Precision.FLOAT32;
            long start = System.nanoTime();
            for (int j = 0; j < config.iterations(); j++) {
                Buffer lossSlot = losses.slot(j); // this iteration's loss (the mean over the steps), for the check
                if (replay != null) {
                    replay.replay();
                    backend.copyMatrix(1, 1, replayLoss, 1, lossSlot, 1);
                } else {
                    iteration(backend, net, ws, h0, y, lossSlot, config.learningRate());
                }
                if (observe.test(j)) {
                    // The report shows this iteration's forward, as the seed's does: outputs before the update.
                    double[] h = ws.downloadOutputs(); // (T, 1, H)
                    double[] predictions = new double[steps];
                    double loss = 0;
                    for (int t = 0; t < steps; t++) {
                        predictions[t] = h[t * hidden];
                        // Summed over t ascending in the backend's precision, as the seed's loss op did.
                        double diff = f32 ? (float) (h[t * hidden] - yHeld[t]) : h[t * hidden] - yHeld[t];
                        double term = f32 ? (float) (diff * diff) : diff * diff;
                        loss = f32 ? (float) (loss + term) : loss + term;
                    }
                    losses.check(j); // the device's record of the iterations so far: a non-finite one stops here
                    listener.report(new Report(j, predictions, loss));
                }
                listener.iterationDone(j);
            }
            backend.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9;
            if (!observe.test(config.iterations() - 1)) {
                losses.check(config.iterations() - 1); // the iterations since the last report
            }
            return new Trained<>(net, new Trained.Timing(config.iterations(), seconds));
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }
}

package org.rnn4j.train;

import java.util.Locale;
import java.util.function.IntPredicate;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.rng.NumpyRandom;

/**
 * Trains {@link BinaryAdditionRnn} the way the seed does: seed the generator, draw the three weight matrices, then per
 * iteration draw {@code a = randint(128)}, {@code b = randint(128)} and take one SGD step on {@code a + b}.
 *
 * <p>Batched: with {@code batch = B}, each iteration draws {@code B} pairs in order from the same generator
 * ({@code a0, b0, a1, b1, ...}), sums the gradients over time (as the seed) and over the batch, and steps by
 * {@code learningRate / B} times that sum, i.e. by the batch's average gradient; so {@code B = 1} is the seed exactly.
 *
 * <p>With {@code graphs}, the training step (forward, backward, update) is recorded once ({@link Backend#record}, a
 * CUDA graph on the GPU) and replayed every iteration after the new problems are uploaded: the same operations in
 * the same order, so the same numbers, with one launch instead of dozens.
 */
public final class RnnTrainer {

    /**
     * Settings; the defaults are the seed's ({@link #seedDefaults()}).
     *
     * @param seed         the seed of numpy's generator, which draws the weights and then the problems
     * @param hidden       the hidden size {@code H} (the seed's 16)
     * @param iterations   how many SGD steps to take (the seed's 10000)
     * @param learningRate the step size {@code alpha} applied to the batch's average gradient (the seed's 0.1)
     * @param batch        problems per iteration, positive (the seed's 1)
     * @param graphs       whether to record the step once and replay it ({@link Backend#record})
     */
    public record Config(long seed, int hidden, int iterations, double learningRate, int batch, boolean graphs) {
        /**
         * Checks the batch; the other values are checked where they are used (the network, the backend).
         *
         * @param seed         the generator's seed
         * @param hidden       the hidden size
         * @param iterations   the number of steps
         * @param learningRate the step size
         * @param batch        problems per iteration, positive
         * @param graphs       whether to record and replay the step
         * @throws IllegalArgumentException when {@code batch} is below 1
         */
        public Config {
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
        }

        /**
         * Without recorded replays (every operation issued anew each iteration).
         *
         * @param seed         the generator's seed
         * @param hidden       the hidden size
         * @param iterations   the number of steps
         * @param learningRate the step size
         * @param batch        problems per iteration, positive
         */
        public Config(long seed, int hidden, int iterations, double learningRate, int batch) {
            this(seed, hidden, iterations, learningRate, batch, false);
        }

        /**
         * One problem per iteration, as the seed, without recorded replays.
         *
         * @param seed         the generator's seed
         * @param hidden       the hidden size
         * @param iterations   the number of steps
         * @param learningRate the step size
         */
        public Config(long seed, int hidden, int iterations, double learningRate) {
            this(seed, hidden, iterations, learningRate, 1);
        }

        /**
         * The seed script's settings: seed 0, 16 hidden units, 10000 iterations, learning rate 0.1, batch 1.
         *
         * @return those settings, without recorded replays
         */
        public static Config seedDefaults() {
            return new Config(0, 16, 10000, 0.1);
        }
    }

    /**
     * What an observed iteration saw: the seed's {@code overallError} (with a batch, its mean over the batch), and the
     * answer {@code predicted} to the batch's first problem {@code a + b} (the rounded output bits).
     *
     * @param iteration the iteration, 0-based
     * @param error     the seed's {@code overallError}, {@code sum_t |y_t - out_t|}, averaged over the batch
     * @param a         the first addend of the batch's first problem
     * @param b         its second addend
     * @param predicted the network's answer to it
     */
    public record Report(int iteration, double error, int a, int b, int predicted) {
        /**
         * The right answer.
         *
         * @return {@code a + b}
         */
        public int sum() {
            return a + b;
        }

        /**
         * The bits of {@code value}, most significant first, as the seed prints them.
         *
         * @param value a number in {@code [0, 256)}; only its low 8 bits are read
         * @return its 8 bits, most significant first
         */
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
     * <p>Refused before anything is allocated when {@link #memoryNeeded} does not fit
     * ({@link InsufficientMemoryException}). The error is checked for infinities and NaN wherever the loop downloads
     * it anyway: at observed iterations, and at the end. A NaN error at one iteration makes every later one NaN (the
     * NaN reaches every weight through the step), so a bad run is always caught, and named exactly when every
     * iteration is observed; {@link NonFiniteLossException} stops it, after closing the network. The listener never
     * receives a non-finite error.
     *
     * @param backend  where to train; its precision decides the arithmetic
     * @param config   the settings
     * @param observe  which iterations to report (each costs a wait for the device)
     * @param listener hears every iteration, and the reports of the observed ones
     * @return the trained network, which the caller closes, with the loop's timing
     * @throws InsufficientMemoryException when the configuration cannot fit, before anything is allocated
     * @throws NonFiniteLossException      when the error becomes infinite or NaN
     */
    public static Trained<BinaryAdditionRnn> train(Backend backend, Config config, IntPredicate observe,
                                                    TrainingListener<Report> listener) {
        memoryNeeded(config, backend.precision()).require(backend);
        NumpyRandom rng = new NumpyRandom(config.seed());
        BinaryAdditionRnn net = new BinaryAdditionRnn(backend, config.hidden());
        int batch = config.batch();
        double step = config.learningRate() / batch; // the batch's average gradient; exactly the seed's lr at B = 1
        try (BinaryAdditionRnn.Workspace ws = net.workspace(batch);
             Backend.Replay replay = config.graphs() ? backend.record(() -> net.trainStep(ws, step)) : null) {
            net.initLikeSeed(rng);
            int[] a = new int[batch];
            int[] b = new int[batch];
            int lastFinite = -1;
            long start = System.nanoTime();
            for (int j = 0; j < config.iterations(); j++) {
                drawProblems(rng, a, b);
                ws.setProblems(a, b);
                if (replay != null) {
                    replay.replay();
                } else {
                    net.trainStep(ws, step);
                }
                if (observe.test(j)) {
                    double error = meanError(ws, j, lastFinite);
                    lastFinite = j;
                    listener.report(new Report(j, error, a[0], b[0], ws.predictions()[0]));
                }
                listener.iterationDone(j);
            }
            backend.synchronize();
            double seconds = (System.nanoTime() - start) / 1e9;
            int last = config.iterations() - 1;
            if (lastFinite != last) {
                meanError(ws, last, lastFinite); // the iterations since the last report
            }
            return new Trained<>(net, new Trained.Timing(config.iterations(), seconds));
        } catch (RuntimeException | Error e) {
            net.close();
            throw e;
        }
    }

    /**
     * The error of iteration {@code j}'s batch (the mean over its problems), downloaded (waiting for the device).
     *
     * @throws NonFiniteLossException when a problem's error is infinite or NaN
     */
    private static double meanError(BinaryAdditionRnn.Workspace ws, int j, int lastFinite) {
        double[] errors = ws.absoluteErrors();
        double error = errors[0];
        if (errors.length > 1) {
            error = 0;
            for (double e : errors) {
                error += e;
            }
            error /= errors.length;
        }
        if (!Double.isFinite(error)) {
            throw new NonFiniteLossException("error", j, error, lastFinite, false);
        }
        return error;
    }

    /**
     * The memory {@link #train} needs for {@code config} in {@code precision}, estimated without allocating anything:
     * on the backend the network ({@code 2P}) and its workspace; on the host the initial parameters as
     * {@code double}s and the workspace's staging arrays.
     *
     * @param config    the settings
     * @param precision the backend's precision
     * @return the estimate
     * @throws IllegalArgumentException when one buffer would exceed {@link Integer#MAX_VALUE} elements
     */
    public static MemoryNeed memoryNeeded(Config config, Precision precision) {
        int h = config.hidden();
        int batch = config.batch();
        String what = String.format(Locale.ROOT, "rnn, hidden %d, batch %d, %s", h, batch, precision.cliName());
        return need(what, h, 2 * BinaryAdditionRnn.parameterCount(h), batch, precision, true);
    }

    /**
     * The memory a trained network of {@code hidden} units and {@link #accuracy} need together: the network, and the
     * workspace of all {@code 128 * 128} pairs with its host arrays.
     *
     * @param hidden    the hidden size {@code H}
     * @param precision the backend's precision
     * @return the estimate
     * @throws IllegalArgumentException when one buffer would exceed {@link Integer#MAX_VALUE} elements
     */
    public static MemoryNeed accuracyMemoryNeeded(int hidden, Precision precision) {
        String what = String.format(Locale.ROOT, "rnn accuracy over all pairs, hidden %d, %s", hidden,
                precision.cliName());
        return need(what, hidden, 2 * BinaryAdditionRnn.parameterCount(hidden), ALL_PAIRS, precision, false);
    }

    /** The problems {@link #accuracy} runs at once: every pair {@code a, b < 128}. */
    public static final int ALL_PAIRS = BinaryAdditionRnn.ADDEND_LIMIT * BinaryAdditionRnn.ADDEND_LIMIT;

    /**
     * {@code network} elements on the backend plus a workspace of {@code batch}, with the host arrays (and the initial
     * parameters as {@code double}s when {@code init}).
     */
    private static MemoryNeed need(String what, int hidden, long network, int batch, Precision precision,
                                   boolean init) {
        if (BinaryAdditionRnn.largestBufferElements(batch, hidden) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " is too large: a buffer of "
                    + BinaryAdditionRnn.largestBufferElements(batch, hidden) + " elements would exceed the limit of "
                    + Integer.MAX_VALUE);
        }
        long onBackend = network + BinaryAdditionRnn.workspaceElements(batch, hidden);
        // host: the initial parameters (P doubles); per problem the inputs, targets and outputs (4 doubles per step),
        // the addends, the predictions and the errors
        long onHost = (init ? Double.BYTES * (network / 2) : 0) + (long) batch * (BinaryAdditionRnn.BITS * 4 * Double.BYTES
                + 3 * Integer.BYTES + Double.BYTES);
        return new MemoryNeed(what, onBackend * precision.bytes(), onHost);
    }

    /**
     * Fills {@code a} and {@code b} with the next problems, drawn as the seed draws them: {@code a}, then {@code b},
     * each {@code randint(128)}.
     *
     * @param rng the seed's generator, advanced by two draws per problem
     * @param a   receives the first addends; its length is the number of problems
     * @param b   receives the second addends; at least as long as {@code a}
     */
    public static void drawProblems(NumpyRandom rng, int[] a, int[] b) {
        for (int r = 0; r < a.length; r++) {
            a[r] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
            b[r] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
        }
    }

    /**
     * How well a trained network adds: over all {@code 128 * 128} pairs, in one batch.
     *
     * @param correct     how many sums were exactly right
     * @param total       how many pairs were tried, {@link #ALL_PAIRS}
     * @param predictions the answer to every pair, at index {@code a * 128 + b}
     */
    public record Accuracy(int correct, int total, int[] predictions) {
        /**
         * The share of exact sums.
         *
         * @return {@code correct / total}, in {@code [0, 1]}
         */
        public double fraction() {
            return (double) correct / total;
        }

        /**
         * The network's answer to {@code a + b}.
         *
         * @param a the first addend, in {@code [0, 128)}
         * @param b the second addend, in {@code [0, 128)}
         * @return the sum the network's rounded output bits spell
         */
        public int predicted(int a, int b) {
            return predictions[a * BinaryAdditionRnn.ADDEND_LIMIT + b];
        }
    }

    /**
     * Runs every pair {@code a, b in [0, 128)} through the network at once and counts the exact sums. The workspace
     * it allocates is refused first, like a training run, when it cannot fit.
     *
     * @param net a network (trained or not); left as it is
     * @return the count and every answer
     * @throws InsufficientMemoryException when the workspace of all pairs cannot fit
     */
    public static Accuracy accuracy(BinaryAdditionRnn net) {
        MemoryNeed all = accuracyMemoryNeeded(net.hidden(), net.backend().precision());
        long network = 2 * BinaryAdditionRnn.parameterCount(net.hidden()) * net.backend().precision().bytes();
        // the network is already there: only the rest must still fit
        new MemoryNeed(all.what(), all.backendBytes() - network, all.hostBytes()).require(net.backend());
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

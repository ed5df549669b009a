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

    /** Settings; the defaults are the seed's. */
    public record Config(long seed, int hidden, int iterations, double learningRate, int batch, boolean graphs) {
        public Config {
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
        }

        /** Without recorded replays (every operation issued anew each iteration). */
        public Config(long seed, int hidden, int iterations, double learningRate, int batch) {
            this(seed, hidden, iterations, learningRate, batch, false);
        }

        /** One problem per iteration, as the seed. */
        public Config(long seed, int hidden, int iterations, double learningRate) {
            this(seed, hidden, iterations, learningRate, 1);
        }

        public static Config seedDefaults() {
            return new Config(0, 16, 10000, 0.1);
        }
    }

    /**
     * What an observed iteration saw: the seed's {@code overallError} (with a batch, its mean over the batch), and the
     * answer {@code predicted} to the batch's first problem {@code a + b} (the rounded output bits).
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
     * <p>Refused before anything is allocated when {@link #memoryNeeded} does not fit
     * ({@link InsufficientMemoryException}). The error is checked for infinities and NaN wherever the loop downloads
     * it anyway: at observed iterations, and at the end. A NaN error at one iteration makes every later one NaN (the
     * NaN reaches every weight through the step), so a bad run is always caught, and named exactly when every
     * iteration is observed; {@link NonFiniteLossException} stops it, after closing the network. The listener never
     * receives a non-finite error.
     *
     * @param observe which iterations to report (each costs a wait for the device)
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

    /** Fills {@code a} and {@code b} with the next problems, drawn as the seed draws them: {@code a}, then {@code b}. */
    public static void drawProblems(NumpyRandom rng, int[] a, int[] b) {
        for (int r = 0; r < a.length; r++) {
            a[r] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
            b[r] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
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

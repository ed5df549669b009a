package org.rnn4j.check;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.net.ParamTensor;
import org.rnn4j.net.SeedLstm;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.nn.CrossEntropyLoss;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Lstm;
import org.rnn4j.nn.MseLoss;
import org.rnn4j.nn.Sequential;
import org.rnn4j.rng.NumpyRandom;

/**
 * Proves the CPU reference's backward passes: for every parameter of a small network with random weights and data,
 * the analytic gradient against a central finite difference of the loss, in float64.
 *
 * <p>The difference is the fourth-order central stencil
 * {@code (-L(w + 2e) + 8 L(w + e) - 8 L(w - e) + L(w - 2e)) / 12e} with {@code e = 1e-4}: its truncation error
 * ({@code ~e^4}) and rounding error ({@code ~1e-16 * L / e}) both stay near 1e-12, far below the 1e-6 the check
 * demands, where the two-point difference would leave small gradients near its own noise.
 *
 * <p>The relative error of one parameter is {@code |analytic - numeric| / max(|analytic|, |numeric|, floor)} with
 * {@code floor = 1e-3 * max |analytic|} over the whole network. A finite difference resolves a derivative only to an
 * absolute accuracy set by the loss (about 1e-12 here), so a gradient a thousand times smaller than the network's
 * largest is judged at that scale rather than against itself; any wrong term in a backward pass still shows as an
 * error of the order of the gradients it feeds.
 */
public final class GradientCheck {

    /** The error threshold of {@code rnn4j gradcheck}. */
    public static final double THRESHOLD = 1e-6;
    private static final double STEP = 1e-4;
    private static final double FLOOR_FRACTION = 1e-3;

    /**
     * The worst parameter of one tensor.
     *
     * @param tensor           the tensor (name, place, shape)
     * @param maxRelativeError the largest relative error over its elements (see the class comment)
     * @param worstIndex       the element with that error, counted from the start of the tensor
     * @param analytic         that element's gradient from the backward pass
     * @param numeric          that element's finite-difference gradient
     */
    public record TensorResult(ParamTensor tensor, double maxRelativeError, int worstIndex, double analytic,
                               double numeric) {
    }

    /**
     * Every tensor of one network.
     *
     * @param network the network's name, as {@code rnn4j gradcheck} prints it ({@code rnn}, {@code lstm}, ...)
     * @param setting its sizes and seed, for people
     * @param tensors the worst element of each tensor, in the order of the parameter layout
     */
    public record Result(String network, String setting, List<TensorResult> tensors) {
        /**
         * The worst error over every tensor.
         *
         * @return the largest {@link TensorResult#maxRelativeError()}, or NaN when there are no tensors
         */
        public double maxRelativeError() {
            return tensors.stream().mapToDouble(TensorResult::maxRelativeError).max().orElse(Double.NaN);
        }

        /**
         * Whether the network's backward pass agrees with the finite differences.
         *
         * @return true when {@link #maxRelativeError()} is below {@link #THRESHOLD} (false for NaN)
         */
        public boolean passed() {
            return maxRelativeError() < THRESHOLD;
        }
    }

    private GradientCheck() {
    }

    /**
     * The binary-addition RNN, hidden 5, a batch of 3 random problems, random weights in [-1, 1).
     *
     * @param seed the seed of the generator that draws the weights and problems
     * @return the worst error of each of its tensors
     */
    public static Result rnn(long seed) {
        int hidden = 5;
        int batch = 3;
        NumpyRandom rng = new NumpyRandom(seed);
        try (Backend backend = new CpuBackend64();
             BinaryAdditionRnn net = new BinaryAdditionRnn(backend, hidden);
             BinaryAdditionRnn.Workspace ws = net.workspace(batch)) {
            net.initLikeSeed(rng);
            int[] a = new int[batch];
            int[] b = new int[batch];
            for (int r = 0; r < batch; r++) {
                a[r] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
                b[r] = (int) rng.randint(BinaryAdditionRnn.ADDEND_LIMIT);
            }
            ws.setProblems(a, b);
            double[] params = net.parameters();
            net.computeGradients(ws);
            double[] analytic = net.gradients();
            // L = 1/2 * sum over steps and rows of (out - y)^2, computed here from the outputs, in double
            ToDoubleFunction<double[]> loss = p -> {
                net.setParameters(p);
                net.forward(ws, false);
                double[] out = ws.outputs(); // (T, B)
                double sum = 0;
                for (int t = 0; t < BinaryAdditionRnn.BITS; t++) {
                    for (int r = 0; r < batch; r++) {
                        double diff = out[t * batch + r] - (((a[r] + b[r]) >> t) & 1);
                        sum += 0.5 * diff * diff;
                    }
                }
                return sum;
            };
            return new Result("rnn", "hidden " + hidden + ", batch " + batch + ", " + BinaryAdditionRnn.BITS
                    + " steps, seed " + seed, compare(net.parameterTensors(), params, analytic, loss));
        }
    }

    /**
     * The seed LSTM, hidden 4, input 3, 5 steps, batch 2, random weights in [-0.5, 0.5), inputs and targets.
     *
     * @param seed the seed of the generator that draws the weights and data
     * @return the worst error of each of its tensors
     */
    public static Result lstm(long seed) {
        int hidden = 4;
        int input = 3;
        int steps = 5;
        int batch = 2;
        NumpyRandom rng = new NumpyRandom(seed);
        try (Backend backend = new CpuBackend64();
             SeedLstm net = new SeedLstm(backend, hidden, input);
             SeedLstm.Workspace ws = net.workspace(steps, batch)) {
            double[] params = new double[net.parameters().length];
            for (int i = 0; i < params.length; i++) {
                params[i] = rng.randomSample() - 0.5;
            }
            double[] inputs = new double[steps * batch * input];
            rng.randomSample(inputs);
            double[] targets = new double[steps * batch];
            for (int i = 0; i < targets.length; i++) {
                targets[i] = rng.randomSample() - 0.5;
            }
            ws.setInputs(inputs);
            ws.setTargets(targets);
            net.setParameters(params);
            net.computeGradients(ws);
            double[] analytic = net.gradients();
            // L = sum over steps and rows of (h[0] - target)^2, as the network's own loss operation sums it
            ToDoubleFunction<double[]> loss = p -> {
                net.setParameters(p);
                net.computeGradients(ws);
                double sum = 0;
                for (double l : ws.losses()) {
                    sum += l;
                }
                return sum;
            };
            return new Result("lstm", "hidden " + hidden + ", input " + input + ", " + steps + " steps, batch "
                    + batch + ", seed " + seed, compare(net.parameterTensors(), params, analytic, loss));
        }
    }

    /**
     * The standard LSTM layer ({@link LstmLayer}), input 3, hidden 4, 5 steps, batch 2, random weights in
     * [-0.5, 0.5), inputs in [0, 1) and an upstream gradient {@code R} in [-0.5, 0.5), with the loss
     * {@code L = sum over steps, rows and units of h * R} (so {@code dL/dh = R}, what {@link LstmLayer#backward}
     * starts from).
     *
     * @param seed the seed of the generator that draws the weights and data
     * @return the worst error of each of its tensors
     */
    public static Result standardLstm(long seed) {
        return lstmLayer(LstmLayer.Cell.STANDARD, seed);
    }

    /**
     * The same check of {@link LstmLayer} with either cell ({@code seed-lstm-layer} for the seed cell).
     *
     * @param cell the layer's cell
     * @param seed the seed of the generator that draws the weights and data
     * @return the worst error of each of its tensors
     */
    public static Result lstmLayer(LstmLayer.Cell cell, long seed) {
        int hidden = 4;
        int input = 3;
        int steps = 5;
        int batch = 2;
        NumpyRandom rng = new NumpyRandom(seed);
        try (Backend backend = new CpuBackend64();
             LstmLayer net = new LstmLayer(backend, cell, input, hidden);
             LstmLayer.Workspace ws = net.workspace(steps, batch)) {
            double[] params = new double[net.parameters().length];
            for (int i = 0; i < params.length; i++) {
                params[i] = rng.randomSample() - 0.5;
            }
            double[] inputs = new double[steps * batch * input];
            rng.randomSample(inputs);
            double[] r = new double[steps * batch * hidden];
            for (int i = 0; i < r.length; i++) {
                r[i] = rng.randomSample() - 0.5;
            }
            ws.setInputs(inputs);
            ws.setOutputGrads(r);
            net.setParameters(params);
            net.forward(ws);
            net.backward(ws);
            double[] analytic = net.gradients();
            // L = sum(h * R), computed here from the outputs, in double
            ToDoubleFunction<double[]> loss = p -> {
                net.setParameters(p);
                net.forward(ws);
                double[] h = ws.downloadOutputs();
                double sum = 0;
                for (int i = 0; i < h.length; i++) {
                    sum += h[i] * r[i];
                }
                return sum;
            };
            return new Result(cell == LstmLayer.Cell.STANDARD ? "standard-lstm" : "seed-lstm-layer", "hidden " + hidden + ", input " + input + ", " + steps
                    + " steps, batch " + batch + ", seed " + seed,
                    compare(net.parameterTensors(), params, analytic, loss));
        }
    }

    /**
     * The multi-layer {@link Lstm} with states: input 3, hidden 4, 2 layers, 4 steps, batch 2, random weights in
     * [-0.5, 0.5), inputs, {@code h0} and {@code c0} in [-1, 1), and the loss
     * {@code L = sum(output * R) + sum(hN * RH) + sum(cN * RC)} with {@code R, RH, RC} in [-0.5, 0.5). Checks every
     * parameter and, as three more tensors, the gradients of the input, {@code h0} and {@code c0}.
     *
     * @param seed the seed of the generator that draws the weights and data
     * @return the worst error of each parameter tensor, then of the input, {@code h0} and {@code c0}
     */
    public static Result lstmStack(long seed) {
        int input = 3;
        int hidden = 4;
        int layers = 2;
        int steps = 4;
        int batch = 2;
        NumpyRandom rng = new NumpyRandom(seed);
        try (Backend backend = new CpuBackend64();
             Lstm net = Lstm.create(backend, input, hidden, layers, seed);
             Lstm.Workspace ws = net.workspace(steps, batch)) {
            int nParams = net.parameters().length;
            int nIn = steps * batch * input;
            int nState = layers * batch * hidden;
            double[] v = new double[nParams + nIn + 2 * nState]; // [params | inputs | h0 | c0]
            for (int i = 0; i < v.length; i++) {
                v[i] = i < nParams ? rng.randomSample() - 0.5 : 2 * rng.randomSample() - 1;
            }
            double[] r = centred(rng, steps * batch * hidden);
            double[] rh = centred(rng, nState);
            double[] rc = centred(rng, nState);
            List<ParamTensor> tensors = new ArrayList<>(net.parameterTensors());
            tensors.add(new ParamTensor("input", nParams, steps * batch, input));
            tensors.add(new ParamTensor("h0", nParams + nIn, layers * batch, hidden));
            tensors.add(new ParamTensor("c0", nParams + nIn + nState, layers * batch, hidden));
            // L(v), computed here from the downloaded outputs and final state, in double
            ToDoubleFunction<double[]> loss = p -> {
                net.setParameters(Arrays.copyOfRange(p, 0, nParams));
                ws.setInputs(Arrays.copyOfRange(p, nParams, nParams + nIn));
                ws.setInitialState(Arrays.copyOfRange(p, nParams + nIn, nParams + nIn + nState),
                        Arrays.copyOfRange(p, nParams + nIn + nState, p.length));
                net.forward(ws);
                return dot(ws.downloadOutputs(), r) + dot(ws.downloadFinalH(), rh) + dot(ws.downloadFinalC(), rc);
            };
            loss.applyAsDouble(v);
            ws.setOutputGrads(r);
            ws.setFinalStateGrads(rh, rc);
            net.backward(ws);
            double[] analytic = new double[v.length];
            System.arraycopy(net.gradients(), 0, analytic, 0, nParams);
            System.arraycopy(ws.downloadInputGrads(), 0, analytic, nParams, nIn);
            System.arraycopy(ws.downloadInitialHGrads(), 0, analytic, nParams + nIn, nState);
            System.arraycopy(ws.downloadInitialCGrads(), 0, analytic, nParams + nIn + nState, nState);
            return new Result("lstm-stack", "input " + input + ", hidden " + hidden + ", " + layers + " layers, "
                    + steps + " steps, batch " + batch + ", given h0 and c0, seed " + seed,
                    compare(tensors, v, analytic, loss));
        }
    }

    /** The dropout probability between the LSTM layers of {@link #model(long)}. */
    public static final double MODEL_DROPOUT = 0.25;

    /**
     * The library's model as a user builds it ({@link Sequential}): {@code Embedding(5, 3) -> Lstm(hidden 4, 2 layers,
     * dropout 0.25) -> Linear(4, 5)}, 4 steps, batch 2, with cross-entropy ({@link CrossEntropyLoss}, the mean over
     * the {@code T * B} positions) against random targets; random tokens, weights in [-0.5, 0.5), and a given initial
     * state {@code h0}, {@code c0} in [-1, 1). Dropout stays on, with one fixed mask: the LSTM's dropout seed is set
     * again before every forward, so each evaluation of the loss draws the same mask and the loss is a smooth function
     * of the parameters. The dropout seed is {@code seed}, or the next one up whose mask keeps some of the first
     * layer's outputs and drops some. Checks every parameter and, as two more tensors, the gradients of {@code h0} and
     * {@code c0}.
     *
     * @param seed seed of the weights, tokens, targets, initial state and dropout mask, in {@code [0, 2^32)}
     * @return every tensor's worst element
     */
    public static Result model(long seed) {
        return model(seed, g -> { });
    }

    /** {@link #model(long)}, with {@code tamper} applied to the analytic gradient before the comparison (tests). */
    static Result model(long seed, Consumer<double[]> tamper) {
        int vocab = 5;
        int dim = 3;
        int hidden = 4;
        int layers = 2;
        int steps = 4;
        int batch = 2;
        NumpyRandom rng = new NumpyRandom(seed);
        try (Backend backend = new CpuBackend64();
             Sequential model = Sequential.builder().embedding(vocab, dim).lstm(hidden, layers, MODEL_DROPOUT)
                     .linear(vocab).build(backend, seed);
             Sequential.Workspace ws = model.workspace(steps, batch);
             CrossEntropyLoss loss = new CrossEntropyLoss(backend, steps * batch, vocab)) {
            Lstm lstm = model.layer("lstm", Lstm.class);
            Lstm.Workspace lws = ws.lstm("lstm");
            int nParams = model.parameterCount();
            int nState = layers * batch * hidden;
            double[] v = new double[nParams + 2 * nState]; // [params | h0 | c0]
            for (int i = 0; i < v.length; i++) {
                v[i] = i < nParams ? rng.randomSample() - 0.5 : 2 * rng.randomSample() - 1;
            }
            int[] tokens = new int[steps * batch];
            int[] targets = new int[steps * batch];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = (int) rng.randint(vocab);
                targets[i] = (int) rng.randint(vocab);
            }
            ws.setTokens(tokens);
            loss.setTargets(targets);
            int masked = steps * batch * hidden;
            long dropoutSeed = seed;
            int dropped;
            while ((dropped = droppedByFirstMask(backend, dropoutSeed, masked)) == 0 || dropped == masked) {
                dropoutSeed++;
            }
            long maskSeed = dropoutSeed;
            List<ParamTensor> tensors = new ArrayList<>(model.parameterTensors());
            tensors.add(new ParamTensor("h0", nParams, layers * batch, hidden));
            tensors.add(new ParamTensor("c0", nParams + nState, layers * batch, hidden));
            ToDoubleFunction<double[]> value = p -> {
                model.arena().uploadParams(Arrays.copyOfRange(p, 0, nParams));
                lws.setInitialState(Arrays.copyOfRange(p, nParams, nParams + nState),
                        Arrays.copyOfRange(p, nParams + nState, p.length));
                lstm.setDropoutSeed(maskSeed); // the same mask on every evaluation
                model.forward(ws);
                loss.forward(ws.outputs());
                return loss.value();
            };
            value.applyAsDouble(v);
            loss.backward(ws.outputs(), ws.outputGrads());
            model.backward(ws);
            double[] analytic = new double[v.length];
            System.arraycopy(model.arena().downloadGrads(), 0, analytic, 0, nParams);
            System.arraycopy(lws.downloadInitialHGrads(), 0, analytic, nParams, nState);
            System.arraycopy(lws.downloadInitialCGrads(), 0, analytic, nParams + nState, nState);
            tamper.accept(analytic);
            return new Result("model", "embedding " + vocab + "x" + dim + ", lstm hidden " + hidden + ", " + layers
                    + " layers, dropout " + MODEL_DROPOUT + " (fixed mask, " + dropped + " of " + masked
                    + " dropped), linear " + hidden + "->" + vocab + ", cross-entropy, " + steps + " steps, batch "
                    + batch + ", given h0 and c0, seed " + seed, compare(tensors, v, analytic, value));
        }
    }

    /**
     * How many of the first LSTM layer's {@code n} outputs the first training forward after
     * {@link Lstm#setDropoutSeed(long) setDropoutSeed(seed)} drops: the mask of {@link Backend#dropoutForward} at
     * offset 0, as {@link Lstm} draws it.
     */
    private static int droppedByFirstMask(Backend backend, long seed, int n) {
        try (Buffer ones = backend.allocate(n);
             Buffer mask = backend.allocate(n);
             Buffer y = backend.allocate(n)) {
            double[] one = new double[n];
            Arrays.fill(one, 1);
            backend.upload(one, ones);
            backend.dropoutForward(ones, MODEL_DROPOUT, seed, 0, mask, y);
            int zeros = 0;
            for (double m : backend.download(mask)) {
                zeros += m == 0 ? 1 : 0;
            }
            return zeros;
        }
    }

    /**
     * {@link Linear} with mean squared error ({@link MseLoss}): input 4, output 3, 5 rows, weights in [-0.5, 0.5),
     * inputs and targets in [-1, 1). Checks the weight, the bias and, as one more tensor, the gradient of the input.
     *
     * @param seed seed of the weights, inputs and targets, in {@code [0, 2^32)}
     * @return every tensor's worst element
     */
    public static Result linearMse(long seed) {
        return linearMse(seed, g -> { });
    }

    /** {@link #linearMse(long)}, with {@code tamper} applied to the analytic gradient before the comparison (tests). */
    static Result linearMse(long seed, Consumer<double[]> tamper) {
        int in = 4;
        int out = 3;
        int rows = 5;
        NumpyRandom rng = new NumpyRandom(seed);
        try (Backend backend = new CpuBackend64();
             Linear linear = Linear.create(backend, in, out, seed);
             MseLoss loss = new MseLoss(backend, rows * out);
             Buffer x = backend.allocate(rows * in);
             Buffer y = backend.allocate(rows * out);
             Buffer dy = backend.allocate(rows * out);
             Buffer dx = backend.allocate(rows * in)) {
            int nParams = linear.arena().size();
            int nIn = rows * in;
            double[] v = new double[nParams + nIn]; // [weight | bias | input]
            for (int i = 0; i < v.length; i++) {
                v[i] = i < nParams ? rng.randomSample() - 0.5 : 2 * rng.randomSample() - 1;
            }
            double[] targets = new double[rows * out];
            for (int i = 0; i < targets.length; i++) {
                targets[i] = 2 * rng.randomSample() - 1;
            }
            loss.setTargets(targets);
            List<ParamTensor> tensors = new ArrayList<>(linear.parameterTensors());
            tensors.add(new ParamTensor("input", nParams, rows, in));
            ToDoubleFunction<double[]> value = p -> {
                linear.arena().uploadParams(Arrays.copyOfRange(p, 0, nParams));
                backend.upload(Arrays.copyOfRange(p, nParams, p.length), x);
                linear.forward(x, y);
                loss.forward(y);
                return loss.value();
            };
            value.applyAsDouble(v);
            loss.backward(y, dy);
            linear.backward(x, dy, dx);
            double[] analytic = new double[v.length];
            System.arraycopy(linear.arena().downloadGrads(), 0, analytic, 0, nParams);
            System.arraycopy(backend.download(dx), 0, analytic, nParams, nIn);
            tamper.accept(analytic);
            return new Result("linear-mse", "input " + in + ", output " + out + ", " + rows + " rows, mean squared "
                    + "error, seed " + seed, compare(tensors, v, analytic, value));
        }
    }

    private static double[] centred(NumpyRandom rng, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = rng.randomSample() - 0.5;
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    static List<TensorResult> compare(List<ParamTensor> tensors, double[] params, double[] analytic,
                                              ToDoubleFunction<double[]> loss) {
        double[] p = params.clone();
        double largest = 0;
        for (double g : analytic) {
            largest = Math.max(largest, Math.abs(g));
        }
        double floor = Math.max(FLOOR_FRACTION * largest, Double.MIN_NORMAL);
        List<TensorResult> results = new ArrayList<>();
        for (ParamTensor t : tensors) {
            double worst = -1;
            int worstIndex = -1;
            double worstA = 0;
            double worstN = 0;
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                double numeric = (-at(loss, p, i, 2 * STEP) + 8 * at(loss, p, i, STEP)
                        - 8 * at(loss, p, i, -STEP) + at(loss, p, i, -2 * STEP)) / (12 * STEP);
                double a = analytic[i];
                double rel = Math.abs(a - numeric) / Math.max(floor, Math.max(Math.abs(a), Math.abs(numeric)));
                if (rel > worst || Double.isNaN(rel)) {
                    worst = rel;
                    worstIndex = i - t.offset();
                    worstA = a;
                    worstN = numeric;
                }
            }
            results.add(new TensorResult(t, worst, worstIndex, worstA, worstN));
        }
        return results;
    }

    private static double at(ToDoubleFunction<double[]> loss, double[] p, int i, double delta) {
        double saved = p[i];
        p[i] = saved + delta;
        double value = loss.applyAsDouble(p);
        p[i] = saved;
        return value;
    }
}

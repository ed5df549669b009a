package org.rnn4j.net;

import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Precision;
import org.rnn4j.rng.NumpyRandom;

/**
 * nicodjimenez's minimal LSTM, written once against {@link Backend}: gates over the concatenation {@code [x, h]},
 * {@code s = g * i + s_prev * f}, {@code h = s * o} (no tanh on the cell), squared loss on {@code h[0]} at every step,
 * plain SGD. Learns to map a fixed sequence of random inputs to a target sequence.
 *
 * <p>Parameters: {@code W (4H, X + H)}, gate blocks {@code [i | f | g | o]} as fixed by {@link GateLayout} (block
 * {@code i} is the seed's {@code wi}, and so on), then {@code b (4H)}. Gradients are summed over the time steps and
 * batch rows.
 *
 * <p>Some of the seed's runs amplify rounding (see {@code tools/oracle-sensitivity.sh}), so the arithmetic keeps the
 * seed's structure where that costs nothing: each step keeps the concatenation {@code xc = [x, h_prev]} and takes one
 * dot product over it, and the gradient reaching {@code h_prev} adds the four gates' contributions in the seed's order
 * {@code i, f, o, g}.
 */
public final class SeedLstm implements AutoCloseable {

    private static final int WEIGHTS = 0;
    private static final int BIAS = 1;
    private static final int[] SEED_BACKWARD_ORDER = {GateLayout.I, GateLayout.F, GateLayout.O, GateLayout.G};

    private final Backend backend;
    private final int hidden;
    private final int inputDim;
    private final int concat;
    private final ParameterArena arena;

    /**
     * A network with zero weights; call {@link #initLikeSeed} or {@link #setParameters}.
     *
     * @param backend  where the parameters live and the operations run
     * @param hidden   the hidden size {@code H}, positive
     * @param inputDim the input width {@code X}, positive
     * @throws IllegalArgumentException when a size is below 1
     */
    public SeedLstm(Backend backend, int hidden, int inputDim) {
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden must be at least 1, got " + hidden);
        }
        if (inputDim < 1) {
            throw new IllegalArgumentException("inputDim must be at least 1, got " + inputDim);
        }
        this.backend = backend;
        this.hidden = hidden;
        this.inputDim = inputDim;
        this.concat = Math.addExact(inputDim, hidden);
        this.arena = new ParameterArena(backend, new ParameterArena.Layout()
                .add("W", GateLayout.GATES * hidden, concat)
                .add("b", 1, GateLayout.GATES * hidden));
    }

    /**
     * The seed's initialisation, quirks kept: {@code rand_arr} reseeds with {@code seed} before every array, so the
     * four weight matrices {@code wg, wi, wf, wo} start equal, and so do the four biases; each value is
     * {@code rand * (0.1 - -0.1) + -0.1}. The generator is left where the seed leaves it, after the last bias, where
     * the seed goes on to draw its inputs.
     *
     * @param rng  the seed script's generator, reseeded and advanced
     * @param seed the seed {@code rand_arr} reseeds with before every array
     */
    public void initLikeSeed(NumpyRandom rng, long seed) {
        setParameters(seedInitialValues(rng, seed, inputDim, hidden));
    }

    /**
     * The values {@link #initLikeSeed} sets, laid out as {@code W (4H, X + H)} then {@code b (4H)}: the layout of
     * this network and of {@link LstmLayer} with the seed cell.
     */
    static double[] seedInitialValues(NumpyRandom rng, long seed, int inputDim, int hidden) {
        int h = hidden;
        int concat = inputDim + hidden;
        double[] values = new double[Math.toIntExact(parameterCount(inputDim, hidden))];
        // The seed's order of rand_arr calls; each reseeds, so each gate gets the same draws.
        int[] weightOrder = {GateLayout.G, GateLayout.I, GateLayout.F, GateLayout.O};
        double[] block = new double[h * concat];
        for (int gate : weightOrder) {
            randArr(rng, seed, block);
            System.arraycopy(block, 0, values, gate * h * concat, block.length);
        }
        int biasOffset = GateLayout.GATES * h * concat;
        double[] bias = new double[h];
        for (int gate : weightOrder) {
            randArr(rng, seed, bias);
            System.arraycopy(bias, 0, values, biasOffset + gate * h, h);
        }
        return values;
    }

    private static void randArr(NumpyRandom rng, long seed, double[] out) {
        double a = -0.1;
        double b = 0.1;
        rng.seed(seed);
        rng.randomSample(out);
        for (int i = 0; i < out.length; i++) {
            out[i] = out[i] * (b - a) + a;
        }
    }

    /**
     * The hidden size.
     *
     * @return {@code H}
     */
    public int hidden() {
        return hidden;
    }

    /**
     * The input width.
     *
     * @return {@code X}
     */
    public int inputDim() {
        return inputDim;
    }

    /**
     * The backend the network runs on.
     *
     * @return the backend given at construction
     */
    public Backend backend() {
        return backend;
    }

    /**
     * The parameter tensors, in the order of the flat parameter array: {@code W (4H, X + H)}, {@code b (1, 4H)}.
     *
     * @return the tensors' names, offsets and shapes, unmodifiable
     */
    public List<ParamTensor> parameterTensors() {
        return arena.tensors();
    }

    /**
     * All parameters, in the order of {@link #parameterTensors()}. Waits for the device.
     *
     * @return a new array of {@link #parameterCount} values
     */
    public double[] parameters() {
        return arena.downloadParams();
    }

    /**
     * Replaces every parameter, laid out as {@link #parameterTensors()}.
     *
     * @param values exactly {@link #parameterCount} values
     * @throws IllegalArgumentException when the count is wrong
     */
    public void setParameters(double[] values) {
        arena.uploadParams(values);
    }

    /**
     * The gradients left by the last {@link #computeGradients}, laid out as the parameters. Waits for the device.
     *
     * @return a new array, as long as {@link #parameters()}
     */
    public double[] gradients() {
        return arena.downloadGrads();
    }

    /**
     * Parameters: {@code 4H*(X + H) + 4H}; the arena holds them twice (with their gradients).
     *
     * @param inputDim the input width {@code X}
     * @param hidden   the hidden size {@code H}
     * @return the number of parameters
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long parameterCount(int inputDim, int hidden) {
        long g4 = (long) GateLayout.GATES * hidden;
        return Math.addExact(Math.multiplyExact(g4, inputDim + (long) hidden), g4);
    }

    /**
     * Elements of one {@link Workspace}: {@code T*B*(X + 11H + 1) + 3*B*H + B} (the concatenated inputs, targets,
     * gates, cell states, outputs and pre-activation gradients; the zero state, two per-step gradients, one column of
     * {@code h}).
     *
     * @param steps    the sequence length {@code T}
     * @param batch    the batch size {@code B}
     * @param inputDim the input width {@code X}
     * @param hidden   the hidden size {@code H}
     * @return the number of elements, for memory estimates before allocating
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long workspaceElements(int steps, int batch, int inputDim, int hidden) {
        long rows = (long) steps * batch;
        return Math.addExact(Math.multiplyExact(rows, inputDim + 11L * hidden + 1), 3L * batch * hidden + batch);
    }

    /**
     * A workspace for {@code batch} sequences of {@code steps} steps, its buffers allocated now
     * ({@link #workspaceElements} elements). Close it when done.
     *
     * @param steps the sequence length {@code T}, positive
     * @param batch the batch size {@code B}, positive
     * @return the new workspace
     * @throws IllegalArgumentException when a size is below 1
     */
    public Workspace workspace(int steps, int batch) {
        return new Workspace(steps, batch);
    }

    /**
     * Forward, loss and backward over the workspace's sequences, then {@code params -= lr * grads}: one iteration of
     * the seed.
     *
     * @param ws           a workspace of this network, its inputs and targets set
     * @param learningRate the SGD step size, finite
     */
    public void trainStep(Workspace ws, double learningRate) {
        computeGradients(ws);
        arena.sgdStep(learningRate);
    }

    /**
     * Forward, then loss and backward together (the seed computes the loss on its way back): fills the gradients,
     * summed over the steps and the batch rows.
     *
     * @param ws a workspace of this network, its inputs and targets set
     */
    public void computeGradients(Workspace ws) {
        forward(ws);
        backward(ws);
    }

    /**
     * The forward pass over every step, from zero state: fills the workspace's gates, cell states and outputs
     * ({@link Workspace#predictions()}, {@link Workspace#losses()}).
     *
     * @param ws a workspace of this network, its inputs set
     */
    public void forward(Workspace ws) {
        int b = ws.batch;
        int h = hidden;
        int g4 = GateLayout.GATES * h;
        Buffer w = arena.param(WEIGHTS);
        Buffer bias = arena.param(BIAS);
        for (int t = 0; t < ws.steps; t++) {
            Buffer gates = ws.gatesAt(t); // (B, 4H): pre-activations, then the gates in place
            backend.gemm(false, true, b, g4, concat, 1, ws.xcAt(t), concat, w, concat, 0, gates, g4);
            backend.seedLstmCellForward(b, h, gates, bias, ws.sPrev(t), gates, ws.stateAt(ws.s, t),
                    ws.stateAt(ws.h, t));
            if (t + 1 < ws.steps) {
                backend.copyMatrix(b, h, ws.stateAt(ws.h, t), h, ws.hPartOf(t + 1), concat);
            }
        }
    }

    private void backward(Workspace ws) {
        int b = ws.batch;
        int h = hidden;
        int g4 = GateLayout.GATES * h;
        Buffer w = arena.param(WEIGHTS);
        Buffer wh = w.slice(inputDim, w.length() - inputDim);
        Buffer dw = arena.grad(WEIGHTS);
        Buffer db = arena.grad(BIAS);
        for (int t = ws.steps - 1; t >= 0; t--) {
            boolean last = t == ws.steps - 1;
            Buffer dz = ws.stepOf(ws.dPreact, t, g4);       // (B, 4H)
            // dh = dL_t/dh (written) + dz_{t+1} . W[:, X:] (the gradient through the next step's [x, h]).
            // dL_t/dh = 2 * (h[:, 0] - y) in column 0, zero elsewhere, from generic operations: zero dh, gather
            // column 0, the squared error's gradient with scale 2 ((h - y) * 2, the seed's 2 * diff), scatter back.
            backend.copyMatrix(b, h, ws.zeros, h, ws.dh, h);
            backend.copyMatrix(b, 1, ws.stateAt(ws.h, t), h, ws.column, 1);
            backend.mseBackward(ws.column, ws.targetAt(t), 2, ws.column);
            backend.copyMatrix(b, 1, ws.column, 1, ws.dh, h);
            if (!last) {
                // One GEMM per gate, added in the seed's order (i, f, o, g), as its dxc is summed
                Buffer dzNext = ws.stepOf(ws.dPreact, t + 1, g4);
                for (int gate : SEED_BACKWARD_ORDER) {
                    backend.gemm(false, false, b, h, h, 1, dzNext.slice(gate * h, dzNext.length() - gate * h), g4,
                            wh.slice(gate * h * concat, wh.length() - gate * h * concat), concat, 1, ws.dh, h);
                }
            }
            backend.seedLstmCellBackward(b, h, ws.gatesAt(t), ws.stateAt(ws.s, t), ws.sPrev(t), ws.dh,
                    last ? ws.zeros : ws.ds, dz, ws.ds);
            double beta = last ? 0 : 1; // written at the first step back, accumulated after
            backend.gemm(true, false, g4, concat, b, 1, dz, g4, ws.xcAt(t), concat, beta, dw, concat);
            backend.sumRows(b, g4, dz, db, !last);
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    /** The activations of {@code B} sequences of {@code T} steps, time-major. */
    public final class Workspace implements AutoCloseable {
        private final int steps;
        private final int batch;
        private final Buffer xc;       // (T, B, X + H) each step's [x, h_prev]; h_prev is zero at t = 0
        private final Buffer target;   // (T, B) targets for h[0]
        private final Buffer gates;    // (T, B, 4H) post-activation gates, the backward's workspace
        private final Buffer s;        // (T, B, H) cell states
        private final Buffer h;        // (T, B, H) outputs
        private final Buffer zeros;    // (B, H) never written: s before the first step, ds after the last
        private final Buffer dPreact;  // (T, B, 4H) dL/d(gate pre-activations)
        private final Buffer dh;       // (B, H) total gradient reaching the current step's h
        private final Buffer ds;       // (B, H) cell-state gradient carried to the previous step
        private final Buffer column;   // (B) h[:, 0] of one step, then its loss gradient
        private final double[] hostH0;

        private Workspace(int steps, int batch) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be at least 1, got " + steps);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
            this.steps = steps;
            this.batch = batch;
            int tb = Math.multiplyExact(steps, batch);
            int g4 = GateLayout.GATES * hidden;
            xc = backend.allocate(Math.multiplyExact(tb, concat));
            target = backend.allocate(tb);
            gates = backend.allocate(Math.multiplyExact(tb, g4));
            s = backend.allocate(Math.multiplyExact(tb, hidden));
            h = backend.allocate(Math.multiplyExact(tb, hidden));
            zeros = backend.allocate(batch * hidden);
            dPreact = backend.allocate(Math.multiplyExact(tb, g4));
            dh = backend.allocate(batch * hidden);
            ds = backend.allocate(batch * hidden);
            column = backend.allocate(batch);
            hostH0 = new double[1];
        }

        /**
         * The sequence length.
         *
         * @return {@code T}
         */
        public int steps() {
            return steps;
        }

        /**
         * The batch size.
         *
         * @return {@code B}
         */
        public int batch() {
            return batch;
        }

        /**
         * Uploads the inputs {@code (T, B, X)}, time-major, into the {@code x} columns of each step's {@code [x, h]}.
         *
         * @param values exactly {@code T * B * X} values
         * @throws IllegalArgumentException when the count is wrong
         */
        public void setInputs(double[] values) {
            if (values.length != steps * batch * inputDim) {
                throw new IllegalArgumentException("inputs must hold " + steps * batch * inputDim + " values, hold "
                        + values.length);
            }
            double[] rows = new double[xc.length()]; // the h_prev columns stay zero; the forward fills them from t = 1
            for (int row = 0; row < steps * batch; row++) {
                System.arraycopy(values, row * inputDim, rows, row * concat, inputDim);
            }
            backend.upload(rows, xc);
        }

        /**
         * Uploads the targets for {@code h[0]}, {@code (T, B)}, time-major.
         *
         * @param values exactly {@code T * B} values
         * @throws IllegalArgumentException when the count is wrong
         */
        public void setTargets(double[] values) {
            if (values.length != target.length()) {
                throw new IllegalArgumentException("targets must hold " + target.length() + " values, hold "
                        + values.length);
            }
            backend.upload(values, target);
        }

        /**
         * {@code h[b, 0]} at every step, {@code (T, B)}: the seed's predictions. Waits for the device.
         *
         * @return a new array of {@code T * B} values, time-major
         */
        public double[] predictions() {
            double[] out = new double[steps * batch];
            for (int t = 0; t < steps; t++) {
                for (int r = 0; r < batch; r++) {
                    backend.download(h.slice((t * batch + r) * hidden, 1), hostH0, 0);
                    out[t * batch + r] = hostH0[0];
                }
            }
            return out;
        }

        /**
         * The loss of each sequence, {@code sum_t (h_t[0] - y_t)^2}, added in the seed's order (from the last step
         * back) in the backend's precision (float32 rounds every operation), from the outputs of the last forward.
         * Waits for the device.
         *
         * @return one loss per sequence, {@code B} values
         */
        public double[] losses() {
            double[] hs = backend.download(h);
            double[] ys = backend.download(target); // as the backend holds them (rounded in float32)
            boolean f32 = backend.precision() == Precision.FLOAT32;
            double[] out = new double[batch];
            for (int r = 0; r < batch; r++) {
                double sum = 0;
                for (int t = steps - 1; t >= 0; t--) {
                    int row = t * batch + r;
                    double diff = hs[row * hidden] - ys[row];
                    diff = f32 ? (float) diff : diff;
                    double loss = f32 ? (float) (diff * diff) : diff * diff;
                    sum = t == steps - 1 ? loss : sum + loss;
                    sum = f32 ? (float) sum : sum;
                }
                out[r] = sum;
            }
            return out;
        }

        private Buffer stepOf(Buffer seq, int t, int width) {
            return seq.slice(t * batch * width, batch * width);
        }

        private Buffer xcAt(int t) {
            return stepOf(xc, t, concat);
        }

        /** The {@code h_prev} columns of step {@code t}'s {@code xc}: a {@code (B, H)} matrix, leading dimension X + H. */
        private Buffer hPartOf(int t) {
            Buffer step = xcAt(t);
            return step.slice(inputDim, step.length() - inputDim);
        }

        private Buffer targetAt(int t) {
            return stepOf(target, t, 1);
        }

        private Buffer gatesAt(int t) {
            return stepOf(gates, t, GateLayout.GATES * hidden);
        }

        private Buffer stateAt(Buffer seq, int t) {
            return stepOf(seq, t, hidden);
        }

        private Buffer sPrev(int t) {
            return t == 0 ? zeros : stateAt(s, t - 1);
        }

        @Override
        public void close() {
            for (Buffer buf : new Buffer[] {xc, target, gates, s, h, zeros, dPreact, dh, ds, column}) {
                buf.close();
            }
        }
    }
}

package org.rnn4j.net;

import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.rng.NumpyRandom;

/**
 * iamtrask's binary-addition RNN, written once against {@link Backend}: two input bits per step (one of each
 * addend, least significant first), a sigmoid hidden layer of {@code H} units fed back to itself, one sigmoid output
 * bit, trained by backpropagation through time and plain SGD on {@code L = 1/2 * sum_t (out_t - y_t)^2}.
 *
 * <p>Parameters, in the seed's order of initialisation and of its names: {@code synapse_0 (2, H)},
 * {@code synapse_1 (H, 1)}, {@code synapse_h (H, H)}. Gradients are summed over the time steps and batch rows; with
 * batch 1 a {@link #trainStep} is the seed's iteration operation for operation (the seed adds {@code alpha} times the
 * negative gradient, which is the same number as subtracting {@code alpha} times the gradient).
 */
public final class BinaryAdditionRnn implements AutoCloseable {

    /** Bits per number, and so time steps per problem. */
    public static final int BITS = 8;
    /** Addends are drawn from {@code [0, ADDEND_LIMIT)} so that the sum fits in {@link #BITS} bits. */
    public static final int ADDEND_LIMIT = 1 << (BITS - 1);
    static final int INPUTS = 2;
    static final int OUTPUTS = 1;
    private static final int W0 = 0;
    private static final int W1 = 1;
    private static final int WH = 2;

    private final Backend backend;
    private final int hidden;
    private final ParameterArena arena;

    /**
     * A network with zero weights; call {@link #initLikeSeed} or {@link #setParameters}.
     *
     * @param backend where the parameters live and the operations run
     * @param hidden  the hidden size {@code H}, positive (the seed's is 16)
     * @throws IllegalArgumentException when {@code hidden} is below 1
     */
    public BinaryAdditionRnn(Backend backend, int hidden) {
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden must be at least 1, got " + hidden);
        }
        this.backend = backend;
        this.hidden = hidden;
        this.arena = new ParameterArena(backend, new ParameterArena.Layout()
                .add("synapse_0", INPUTS, hidden)
                .add("synapse_1", hidden, OUTPUTS)
                .add("synapse_h", hidden, hidden));
    }

    /**
     * The seed's initialisation: each matrix {@code 2 * random(shape) - 1}, drawn in the order synapse_0, _1, _h.
     *
     * @param rng the seed script's generator, seeded by the caller; advanced by one draw per parameter
     */
    public void initLikeSeed(NumpyRandom rng) {
        double[] values = new double[arena.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = 2 * rng.randomSample() - 1;
        }
        setParameters(values);
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
     * The backend the network runs on.
     *
     * @return the backend given at construction
     */
    public Backend backend() {
        return backend;
    }

    /**
     * The parameter tensors, in the order of the flat parameter array: {@code synapse_0 (2, H)},
     * {@code synapse_1 (H, 1)}, {@code synapse_h (H, H)}.
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
     * Parameters: {@code 2H + H + H*H}; the arena holds them twice (with their gradients).
     *
     * @param hidden the hidden size {@code H}
     * @return the number of parameters
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long parameterCount(int hidden) {
        return Math.addExact((long) INPUTS * hidden + (long) hidden * OUTPUTS, (long) hidden * hidden);
    }

    /**
     * Elements of one {@link Workspace}: {@code 40*B + 11*B*H} for the 8 steps (inputs, targets, the 9 hidden states,
     * outputs and their deltas, two hidden deltas).
     *
     * @param batch  the batch size {@code B}
     * @param hidden the hidden size {@code H}
     * @return the number of elements, for memory estimates before allocating
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long workspaceElements(int batch, int hidden) {
        return Math.addExact(40L * batch, Math.multiplyExact(11L * batch, hidden));
    }

    /**
     * Elements of the largest single buffer the network and a workspace allocate: the parameter arena {@code 2P} or
     * the hidden states {@code 9*B*H}. No buffer can hold more than {@link Integer#MAX_VALUE}.
     *
     * @param batch  the batch size {@code B}
     * @param hidden the hidden size {@code H}
     * @return the number of elements of the largest buffer
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long largestBufferElements(int batch, int hidden) {
        return Math.max(Math.multiplyExact(2, parameterCount(hidden)), (BITS + 1L) * batch * hidden);
    }

    /**
     * A workspace for batches of {@code batch} problems, its buffers allocated now ({@link #workspaceElements}
     * elements). Close it when done.
     *
     * @param batch the number of problems per step {@code B}, positive (the seed's is 1)
     * @return the new workspace
     * @throws IllegalArgumentException when {@code batch} is below 1 or the hidden states would not fit one buffer
     */
    public Workspace workspace(int batch) {
        return new Workspace(batch);
    }

    /**
     * Forward and backward over the workspace's problems, then {@code params -= lr * grads}: one iteration of the
     * seed when the batch is 1.
     *
     * @param ws           a workspace of this network, its problems set
     * @param learningRate the SGD step size ({@code alpha}, 0.1 in the seed), finite
     */
    public void trainStep(Workspace ws, double learningRate) {
        computeGradients(ws);
        arena.sgdStep(learningRate);
    }

    /**
     * Forward with the loss, then backward: leaves the gradients, summed over the steps and the batch, in the arena
     * ({@link #gradients()}).
     *
     * @param ws a workspace of this network, its problems set
     */
    public void computeGradients(Workspace ws) {
        forward(ws, true);
        backward(ws);
    }

    /**
     * Forward only (outputs, and with {@code withLoss} the output deltas). The loss's gradient with respect to the
     * output pre-activation, {@code (out - y) * (out * (1 - out))}, is composed of two generic operations: the
     * squared error's gradient with scale 1 ({@code out - y}, the same number as the seed's {@code -(y - out)}), then
     * the sigmoid's delta. The seed's reported error is computed on the host from the outputs
     * ({@link Workspace#absoluteErrors()}).
     *
     * @param ws       a workspace of this network, its problems set
     * @param withLoss whether to compute the output deltas a backward needs (not for evaluation)
     */
    public void forward(Workspace ws, boolean withLoss) {
        int b = ws.batch;
        int h = hidden;
        Buffer w0 = arena.param(W0);
        Buffer w1 = arena.param(W1);
        Buffer wh = arena.param(WH);
        for (int t = 0; t < BITS; t++) {
            Buffer hPrev = ws.hiddenAt(t);   // (B, H), zeros at t = 0
            Buffer hCur = ws.hiddenAt(t + 1); // (B, H)
            Buffer out = ws.step(ws.out, t, OUTPUTS);
            // layer_1 = sigmoid(X . synapse_0 + layer_1_prev . synapse_h)
            backend.gemm(false, false, b, h, INPUTS, 1, ws.step(ws.x, t, INPUTS), INPUTS, w0, h, 0, hCur, h);
            backend.gemm(false, false, b, h, h, 1, hPrev, h, wh, h, 1, hCur, h);
            backend.sigmoidForward(hCur, hCur);
            // layer_2 = sigmoid(layer_1 . synapse_1)
            backend.gemm(false, false, b, OUTPUTS, h, 1, hCur, h, w1, OUTPUTS, 0, out, OUTPUTS);
            backend.sigmoidForward(out, out);
            if (withLoss) {
                Buffer dOut = ws.step(ws.dOut, t, OUTPUTS);
                backend.mseBackward(out, ws.step(ws.y, t, OUTPUTS), 1, dOut); // out - y
                backend.sigmoidBackward(dOut, out, dOut);                      // * out * (1 - out)
            }
        }
    }

    private void backward(Workspace ws) {
        int b = ws.batch;
        int h = hidden;
        Buffer w1 = arena.param(W1);
        Buffer wh = arena.param(WH);
        Buffer dw0 = arena.grad(W0);
        Buffer dw1 = arena.grad(W1);
        Buffer dwh = arena.grad(WH);
        for (int t = BITS - 1; t >= 0; t--) {
            boolean first = t == BITS - 1;
            double beta = first ? 0 : 1; // gradients written at the first step back, accumulated after
            Buffer delta = ws.hiddenDelta[t % 2];           // (B, H), this step
            Buffer future = ws.hiddenDelta[(t + 1) % 2];    // (B, H), from step t + 1
            Buffer dOut = ws.step(ws.dOut, t, OUTPUTS);     // (B, 1)
            Buffer hCur = ws.hiddenAt(t + 1);
            // layer_1_delta = (future . synapse_h^T + layer_2_delta . synapse_1^T) * layer_1 * (1 - layer_1)
            backend.gemm(false, true, b, h, OUTPUTS, 1, dOut, OUTPUTS, w1, OUTPUTS, 0, delta, h);
            if (!first) {
                backend.gemm(false, true, b, h, h, 1, future, h, wh, h, 1, delta, h);
            }
            backend.sigmoidBackward(delta, hCur, delta);
            backend.gemm(true, false, h, OUTPUTS, b, 1, hCur, h, dOut, OUTPUTS, beta, dw1, OUTPUTS);
            backend.gemm(true, false, h, h, b, 1, ws.hiddenAt(t), h, delta, h, beta, dwh, h);
            backend.gemm(true, false, INPUTS, h, b, 1, ws.step(ws.x, t, INPUTS), INPUTS, delta, h, beta, dw0, h);
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    /**
     * The activations of one batch of problems, {@code a + b} for {@code B} pairs, all laid out time-major:
     * step {@code t} is bit {@code t} counted from the least significant.
     */
    public final class Workspace implements AutoCloseable {
        private final int batch;
        private final Buffer x;          // (T, B, 2) input bits
        private final Buffer y;          // (T, B, 1) target bits
        private final Buffer hiddens;    // (T + 1, B, H); slot 0 stays zero, the state before the first step
        private final Buffer out;        // (T, B, 1) output probabilities
        private final Buffer dOut;       // (T, B, 1) dL/d(output pre-activation)
        private final Buffer[] hiddenDelta = new Buffer[2]; // (B, H) each: this step's and the next step's
        private final double[] hostX;
        private final double[] hostY;
        private final double[] hostOut;

        private Workspace(int batch) {
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
            if ((BITS + 1L) * batch * hidden > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("batch " + batch + " with hidden " + hidden + " needs "
                        + (BITS + 1L) * batch * hidden + " elements for the hidden states, more than one buffer can "
                        + "hold (" + Integer.MAX_VALUE + ")");
            }
            this.batch = batch;
            int steps = Math.multiplyExact(BITS, batch);
            x = backend.allocate(steps * INPUTS);
            y = backend.allocate(steps * OUTPUTS);
            hiddens = backend.allocate(Math.multiplyExact(steps + batch, hidden));
            out = backend.allocate(steps * OUTPUTS);
            dOut = backend.allocate(steps * OUTPUTS);
            hiddenDelta[0] = backend.allocate(batch * hidden);
            hiddenDelta[1] = backend.allocate(batch * hidden);
            hostX = new double[steps * INPUTS];
            hostY = new double[steps * OUTPUTS];
            hostOut = new double[steps * OUTPUTS];
        }

        /**
         * The number of problems per step.
         *
         * @return {@code B}
         */
        public int batch() {
            return batch;
        }

        /**
         * Loads the problems {@code a[r] + b[r]}, each addend in {@code [0, 128)}: their bits as the inputs and the
         * bits of the sum as the targets.
         *
         * @param a the first addends, {@code B} of them
         * @param b the second addends, {@code B} of them
         * @throws IllegalArgumentException when a count is wrong or an addend is outside {@code [0, 128)}
         */
        public void setProblems(int[] a, int[] b) {
            if (a.length != batch || b.length != batch) {
                throw new IllegalArgumentException("a and b must hold " + batch + " addends each, hold " + a.length
                        + " and " + b.length);
            }
            for (int r = 0; r < batch; r++) {
                if (a[r] < 0 || a[r] >= ADDEND_LIMIT || b[r] < 0 || b[r] >= ADDEND_LIMIT) {
                    throw new IllegalArgumentException("addends must lie in [0, " + ADDEND_LIMIT + "), got " + a[r]
                            + " and " + b[r]);
                }
                int c = a[r] + b[r];
                for (int t = 0; t < BITS; t++) {
                    int row = t * batch + r;
                    hostX[row * INPUTS] = (a[r] >> t) & 1;
                    hostX[row * INPUTS + 1] = (b[r] >> t) & 1;
                    hostY[row] = (c >> t) & 1;
                }
            }
            backend.upload(hostX, x);
            backend.upload(hostY, y);
        }

        /**
         * The network's answers: for each problem, the sum its rounded output bits spell. Waits for the device.
         *
         * @return {@code B} sums, each in {@code [0, 256)}
         */
        public int[] predictions() {
            backend.download(out, hostOut, 0);
            int[] sums = new int[batch];
            for (int r = 0; r < batch; r++) {
                int sum = 0;
                for (int t = 0; t < BITS; t++) {
                    // numpy's round: half to even, like Math.rint
                    sum |= ((int) Math.rint(hostOut[t * batch + r])) << t;
                }
                sums[r] = sum;
            }
            return sums;
        }

        /**
         * The seed's "overallError" of each problem after a forward: {@code sum_t |y_t - out_t|}, added over the
         * steps in order from 0, in the backend's precision (float32 rounds every step). Waits for the device.
         *
         * @return {@code B} errors, each in {@code [0, 8]}
         */
        public double[] absoluteErrors() {
            backend.download(out, hostOut, 0);
            boolean f32 = backend.precision() == Precision.FLOAT32;
            double[] errors = new double[batch];
            for (int r = 0; r < batch; r++) {
                double err = 0;
                for (int t = 0; t < BITS; t++) {
                    double miss = hostY[t * batch + r] - hostOut[t * batch + r]; // the seed's layer_2_error
                    err += Math.abs(f32 ? (float) miss : miss);
                    err = f32 ? (float) err : err;
                }
                errors[r] = err;
            }
            return errors;
        }

        /**
         * The output probabilities {@code (T, B)}, time-major, bit 0 first. Waits for the device.
         *
         * @return a new array of {@code 8 * B} values in {@code [0, 1]}
         */
        public double[] outputs() {
            return backend.download(out);
        }

        private Buffer step(Buffer seq, int t, int width) {
            return seq.slice(t * batch * width, batch * width);
        }

        private Buffer hiddenAt(int slot) {
            return hiddens.slice(slot * batch * hidden, batch * hidden);
        }

        @Override
        public void close() {
            for (Buffer buf : new Buffer[] {x, y, hiddens, out, dOut, hiddenDelta[0], hiddenDelta[1]}) {
                buf.close();
            }
        }
    }
}

package org.rnn4j.net;

import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.rng.NumpyRandom;

/**
 * One LSTM layer over whole sequences, with either cell ({@link Cell}): the standard one described below, or the
 * seeds' (nicodjimenez's: {@code s = g*i + s_prev*f}, {@code h = s*o}, one weight matrix {@code W (4H, X + H)} over
 * {@code [x, h]} and one bias {@code b (4H)}, the layout of {@link SeedLstm}), which runs the seed's task on the
 * fast algorithm with the seed's numbers.
 *
 * <p>The standard cell is PyTorch's {@code nn.LSTM(inputSize, hidden)} (one layer, unidirectional, with
 * biases, {@code batch_first=False}, zero initial state), over whole sequences, written once against {@link Backend}:
 * <pre>
 *   z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh              gate blocks [i | f | g | o] ({@link GateLayout})
 *   i, f, o = sigmoid(z_i, z_f, z_o),  g = tanh(z_g)
 *   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t),            h_{-1} = c_{-1} = 0
 * </pre>
 *
 * <p>Parameters, in one {@link ParameterArena} and in this order, with PyTorch's names, shapes and row-major layout:
 * {@code weight_ih (4H, X)}, {@code weight_hh (4H, H)}, {@code bias_ih (4H)}, {@code bias_hh (4H)} (the suffix
 * {@code _l0} of {@code nn.LSTM}'s names left out). So {@link #setParameters} takes PyTorch's tensors flattened and
 * concatenated in that order.
 *
 * <p>The algorithm is the one GPU libraries use (cuDNN's, and PyTorch's on the CPU): the input projections of all
 * {@code T * B} rows in one GEMM before the recurrence; per step only the recurrent GEMM (accumulating into that step's
 * pre-activations, skipped at {@code t = 0} where {@code h_{-1} = 0}) and one fused cell operation; and in the backward,
 * per step one GEMM carrying the gradient to {@code h_{t-1}} and the fused cell backward, then the weight gradients as
 * two large GEMMs over all rows and the bias gradients as one column sum. Nothing in {@link #forward} or
 * {@link #backward} waits for the device.
 */
public final class LstmLayer implements AutoCloseable {

    /** The cell: the standard (PyTorch's) or the seeds'. */
    public enum Cell {
        /** PyTorch's {@code nn.LSTM} cell: {@code c = f*c + i*g}, {@code h = o*tanh(c)}; two weights, two biases. */
        STANDARD,
        /** nicodjimenez's cell: {@code s = g*i + s*f}, {@code h = s*o}; {@code W (4H, X + H)} over {@code [x, h]}. */
        SEED
    }

    private static final int WEIGHT_IH = 0;
    private static final int WEIGHT_HH = 1;
    private static final int BIAS_IH = 2;
    private static final int BIAS_HH = 3;
    // The seed cell's tensors.
    private static final int SEED_W = 0;
    private static final int SEED_B = 1;

    private final Cell cell;
    private final Backend backend;
    private final int inputSize;
    private final int hidden;
    private final ParameterArena arena;

    /**
     * A standard-cell layer with zero parameters; call {@link #initLikePyTorch} or {@link #setParameters}.
     *
     * @param backend   where the parameters live and the operations run; the layer allocates its arena there
     * @param inputSize the input width {@code X}, positive
     * @param hidden    the hidden size {@code H}, positive, with {@code 4H} and {@code X + H} fitting an {@code int}
     * @throws IllegalArgumentException naming the argument that is null or out of range
     */
    public LstmLayer(Backend backend, int inputSize, int hidden) {
        this(backend, Cell.STANDARD, inputSize, hidden);
    }

    /**
     * A layer of the given cell with zero parameters; call an {@code init} method or {@link #setParameters}.
     *
     * @param backend   where the parameters live and the operations run; the layer allocates its arena there
     * @param cell      the standard cell or the seeds'
     * @param inputSize the input width {@code X}, positive
     * @param hidden    the hidden size {@code H}, positive, with {@code 4H} and {@code X + H} fitting an {@code int}
     * @throws IllegalArgumentException naming the argument that is null or out of range
     */
    public LstmLayer(Backend backend, Cell cell, int inputSize, int hidden) {
        if (cell == null) {
            throw new IllegalArgumentException("cell must not be null");
        }
        this.cell = cell;
        if (backend == null) {
            throw new IllegalArgumentException("backend must not be null");
        }
        if (inputSize < 1) {
            throw new IllegalArgumentException("inputSize must be at least 1, got " + inputSize);
        }
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden must be at least 1, got " + hidden);
        }
        if (hidden > Integer.MAX_VALUE / GateLayout.GATES) {
            throw new IllegalArgumentException("hidden " + hidden + " is too large: 4 * hidden must fit an int");
        }
        if ((long) inputSize + hidden > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("inputSize " + inputSize + " + hidden " + hidden + " must fit an int");
        }
        this.backend = backend;
        this.inputSize = inputSize;
        this.hidden = hidden;
        int g4 = GateLayout.GATES * hidden;
        this.arena = new ParameterArena(backend, cell == Cell.STANDARD
                ? new ParameterArena.Layout()
                        .add("weight_ih", g4, inputSize)
                        .add("weight_hh", g4, hidden)
                        .add("bias_ih", 1, g4)
                        .add("bias_hh", 1, g4)
                : new ParameterArena.Layout()
                        .add("W", g4, Math.addExact(inputSize, hidden))
                        .add("b", 1, g4));
    }

    /**
     * The cell this layer computes.
     *
     * @return the cell given at construction
     */
    public Cell cell() {
        return cell;
    }

    /**
     * The seed's initialisation ({@link SeedLstm#initLikeSeed}, quirks kept: {@code rand_arr} reseeds before every
     * array); seed cell only. Leaves the generator where the seed does, before its inputs are drawn.
     *
     * @param rng  the seed script's generator, reseeded and advanced
     * @param seed the seed {@code rand_arr} reseeds with before every array
     * @throws IllegalStateException for a standard-cell layer
     */
    public void initLikeSeed(NumpyRandom rng, long seed) {
        if (cell != Cell.SEED) {
            throw new IllegalStateException("initLikeSeed is the seed cell's initialisation; this layer is " + cell);
        }
        setParameters(SeedLstm.seedInitialValues(rng, seed, inputSize, hidden));
    }

    /**
     * PyTorch's initialisation of {@code nn.LSTM}: every parameter uniform in {@code [-k, k)}, {@code k = 1/sqrt(H)},
     * drawn tensor by tensor in the order of {@link #parameterTensors()}, each value {@code -k + 2k * u} with
     * {@code u = rng.randomSample()} (numpy's {@code uniform(-k, k)}).
     *
     * @param rng the generator the values are drawn from, advanced by one draw per parameter
     */
    public void initLikePyTorch(NumpyRandom rng) {
        double k = 1 / Math.sqrt(hidden);
        double[] values = new double[arena.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = -k + (k - -k) * rng.randomSample();
        }
        setParameters(values);
    }

    /**
     * The input width.
     *
     * @return {@code X}
     */
    public int inputSize() {
        return inputSize;
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
     * The backend the layer runs on.
     *
     * @return the backend given at construction
     */
    public Backend backend() {
        return backend;
    }

    /**
     * The parameter tensors, in the order of the flat parameter array: for the standard cell {@code weight_ih (4H, X)},
     * {@code weight_hh (4H, H)}, {@code bias_ih (1, 4H)}, {@code bias_hh (1, 4H)}; for the seed cell
     * {@code W (4H, X + H)}, {@code b (1, 4H)}.
     *
     * @return the tensors' names, offsets and shapes, unmodifiable
     */
    public List<ParamTensor> parameterTensors() {
        return arena.tensors();
    }

    /**
     * All parameters, in the order of {@link #parameterTensors()}. Waits for the device.
     *
     * @return a new array of {@link #parameterCount(Cell, int, int)} values
     */
    public double[] parameters() {
        return arena.downloadParams();
    }

    /**
     * Replaces every parameter, in the order of {@link #parameterTensors()}: PyTorch's tensors flattened (row-major)
     * and concatenated.
     *
     * @param values exactly {@link #parameterCount(Cell, int, int)} values
     * @throws IllegalArgumentException when the count is wrong
     */
    public void setParameters(double[] values) {
        arena.uploadParams(values);
    }

    /**
     * The gradients left by the last {@link #backward}, laid out as the parameters. Waits for the device.
     *
     * @return a new array, as long as {@link #parameters()}
     */
    public double[] gradients() {
        return arena.downloadGrads();
    }

    /**
     * Parameters of a layer of the given cell: the seed cell's is {@link SeedLstm#parameterCount}.
     *
     * @param cell      the cell
     * @param inputSize the input width {@code X}
     * @param hidden    the hidden size {@code H}
     * @return the number of parameters (the arena holds twice as many elements)
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long parameterCount(Cell cell, int inputSize, int hidden) {
        return cell == Cell.SEED ? SeedLstm.parameterCount(inputSize, hidden) : parameterCount(inputSize, hidden);
    }

    /**
     * Parameters of a standard-cell layer: {@code 4H*X + 4H*H + 8H}; the arena holds them twice (with their
     * gradients).
     *
     * @param inputSize the input width {@code X}
     * @param hidden    the hidden size {@code H}
     * @return the number of parameters
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long parameterCount(int inputSize, int hidden) {
        long g4 = (long) GateLayout.GATES * hidden;
        return Math.addExact(Math.addExact(Math.multiplyExact(g4, inputSize), Math.multiplyExact(g4, hidden)), 2 * g4);
    }

    /**
     * Elements of one {@link Workspace}: {@code T*B*(X + 11H) + 3*B*H} (inputs, pre-activations/gates, cell states,
     * outputs, output gradients, pre-activation gradients; the zero state and two per-step gradients).
     *
     * @param steps     the sequence length {@code T}
     * @param batch     the batch size {@code B}
     * @param inputSize the input width {@code X}
     * @param hidden    the hidden size {@code H}
     * @return the number of elements, for memory estimates before allocating
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long workspaceElements(int steps, int batch, int inputSize, int hidden) {
        long rows = (long) steps * batch;
        return Math.addExact(Math.multiplyExact(rows, inputSize + 11L * hidden), 3L * batch * hidden);
    }

    /**
     * Elements of the largest single buffer a layer and its workspace allocate: the parameter arena {@code 2P}, the
     * inputs {@code T*B*X} or the gates {@code T*B*4H}. No buffer can hold more than {@link Integer#MAX_VALUE}.
     *
     * @param cell      the cell
     * @param steps     the sequence length {@code T}
     * @param batch     the batch size {@code B}
     * @param inputSize the input width {@code X}
     * @param hidden    the hidden size {@code H}
     * @return the number of elements of the largest buffer
     * @throws ArithmeticException when the count does not fit a {@code long}
     */
    public static long largestBufferElements(Cell cell, int steps, int batch, int inputSize, int hidden) {
        long rows = (long) steps * batch;
        return Math.max(Math.multiplyExact(2, parameterCount(cell, inputSize, hidden)),
                Math.max(Math.multiplyExact(rows, inputSize), Math.multiplyExact(rows, GateLayout.GATES * (long) hidden)));
    }

    /**
     * A workspace for {@code batch} sequences of {@code steps} steps: every buffer one forward and backward need,
     * allocated now ({@link #workspaceElements} elements). Close it when done; it is bound to this layer.
     *
     * @param steps the sequence length {@code T}, positive
     * @param batch the batch size {@code B}, positive
     * @return the new workspace
     * @throws IllegalArgumentException when a size is below 1 or a buffer would exceed {@link Integer#MAX_VALUE}
     */
    public Workspace workspace(int steps, int batch) {
        return new Workspace(steps, batch);
    }

    /**
     * Plain SGD over every parameter: {@code params -= learningRate * grads}, one backend operation.
     *
     * @param learningRate the step size, finite
     */
    public void sgdStep(double learningRate) {
        arena.sgdStep(learningRate);
    }

    /**
     * The forward pass over every step, from zero initial state: {@link Workspace#inputs()} {@code (T, B, X)} to
     * {@link Workspace#outputs()} {@code (T, B, H)}, keeping the gates and cell states the backward needs.
     *
     * @param ws a workspace of this layer, its inputs set
     * @throws IllegalArgumentException when {@code ws} is null or another layer's
     */
    public void forward(Workspace ws) {
        checkOwn(ws);
        int b = ws.batch;
        int h = hidden;
        int g4 = GateLayout.GATES * h;
        int rows = ws.steps * b;
        Buffer wIh = inputWeights();
        Buffer wHh = recurrentWeights();
        int ldIn = inputStride();
        int ldRec = recurrentStride();
        // The input projection of all T * B rows at once: preact_all = X_all W_ih^T.
        backend.gemm(false, true, rows, g4, inputSize, 1, ws.inputs, inputSize, wIh, ldIn, 0, ws.gates, g4);
        for (int t = 0; t < ws.steps; t++) {
            Buffer z = ws.gatesAt(t); // (B, 4H): pre-activations, then the gates in place
            if (t > 0) {
                backend.gemm(false, true, b, g4, h, 1, ws.hAt(t - 1), h, wHh, ldRec, 1, z, g4);
            }
            if (cell == Cell.STANDARD) {
                backend.standardLstmCellForward(b, h, z, arena.param(BIAS_IH), arena.param(BIAS_HH), ws.cPrev(t), z,
                        ws.cAt(t), ws.hAt(t));
            } else {
                backend.seedLstmCellForward(b, h, z, arena.param(SEED_B), ws.cPrev(t), z, ws.cAt(t), ws.hAt(t));
            }
        }
    }

    /**
     * The backward pass after {@link #forward}: from {@link Workspace#outputGrads()} {@code (T, B, H)}, the gradient
     * of the loss with respect to every output {@code h_t} (which the task writes), to the gradient of every parameter,
     * written (not accumulated).
     *
     * @param ws the workspace of the last {@link #forward}, its output gradients set
     * @throws IllegalArgumentException when {@code ws} is null or another layer's
     */
    public void backward(Workspace ws) {
        checkOwn(ws);
        int b = ws.batch;
        int h = hidden;
        int g4 = GateLayout.GATES * h;
        int steps = ws.steps;
        Buffer wHh = recurrentWeights();
        int ldRec = recurrentStride();
        for (int t = steps - 1; t >= 0; t--) {
            boolean last = t == steps - 1;
            Buffer dh;
            if (last) {
                dh = ws.outputGradAt(t); // nothing comes back from a later step
            } else {
                // dh_t = dL/dh_t + dz_{t+1} W_hh, the gradient through the next step's recurrent GEMM
                dh = ws.dh;
                backend.copyMatrix(b, h, ws.outputGradAt(t), h, dh, h);
                backend.gemm(false, false, b, h, g4, 1, ws.dPreactAt(t + 1), g4, wHh, ldRec, 1, dh, h);
            }
            if (cell == Cell.STANDARD) {
                backend.standardLstmCellBackward(b, h, ws.gatesAt(t), ws.cAt(t), ws.cPrev(t), dh,
                        last ? ws.zeros : ws.dc, ws.dPreactAt(t), ws.dc);
            } else {
                backend.seedLstmCellBackward(b, h, ws.gatesAt(t), ws.cAt(t), ws.cPrev(t), dh,
                        last ? ws.zeros : ws.dc, ws.dPreactAt(t), ws.dc);
            }
        }
        int rows = steps * b;
        // dW_ih = dPreact_all^T X_all over all T * B rows.
        backend.gemm(true, false, g4, inputSize, rows, 1, ws.dPreact, g4, ws.inputs, inputSize, 0,
                inputWeightGrads(), inputStride());
        // dW_hh = dPreact[1 .. T-1]^T H[0 .. T-2]; with one step there is no h_{t-1} and k = 0 writes zeros.
        int recurrentRows = (steps - 1) * b;
        Buffer dzLater = steps > 1 ? ws.dPreact.slice(b * g4, recurrentRows * g4) : ws.dPreact;
        Buffer hEarlier = steps > 1 ? ws.h.slice(0, recurrentRows * h) : ws.h;
        backend.gemm(true, false, g4, h, recurrentRows, 1, dzLater, g4, hEarlier, h, 0, recurrentWeightGrads(),
                recurrentStride());
        if (cell == Cell.SEED) {
            backend.sumRows(rows, g4, ws.dPreact, arena.grad(SEED_B), false);
            return;
        }
        // Both biases enter z the same way: d b_ih = d b_hh = the column sums of dPreact.
        Buffer dbIh = arena.grad(BIAS_IH);
        backend.sumRows(rows, g4, ws.dPreact, dbIh, false);
        backend.copyMatrix(1, g4, dbIh, g4, arena.grad(BIAS_HH), g4);
    }

    // The input and recurrent weights as (4H, X) and (4H, H) matrices with a row stride: separate tensors in the
    // standard cell; in the seed cell the column blocks [0, X) and [X, X + H) of W (4H, X + H), stride X + H.

    private int inputStride() {
        return cell == Cell.STANDARD ? inputSize : inputSize + hidden;
    }

    private int recurrentStride() {
        return cell == Cell.STANDARD ? hidden : inputSize + hidden;
    }

    private Buffer inputWeights() {
        return cell == Cell.STANDARD ? arena.param(WEIGHT_IH) : arena.param(SEED_W);
    }

    private Buffer recurrentWeights() {
        return cell == Cell.STANDARD ? arena.param(WEIGHT_HH) : seedRecurrentBlock(arena.param(SEED_W));
    }

    private Buffer inputWeightGrads() {
        return cell == Cell.STANDARD ? arena.grad(WEIGHT_IH) : arena.grad(SEED_W);
    }

    private Buffer recurrentWeightGrads() {
        return cell == Cell.STANDARD ? arena.grad(WEIGHT_HH) : seedRecurrentBlock(arena.grad(SEED_W));
    }

    /** Columns {@code [X, X + H)} of a {@code (4H, X + H)} matrix: from element X to the end of the last row. */
    private Buffer seedRecurrentBlock(Buffer w) {
        return w.slice(inputSize, w.length() - inputSize);
    }

    private void checkOwn(Workspace ws) {
        if (ws == null) {
            throw new IllegalArgumentException("ws must not be null");
        }
        if (ws.layer() != this) {
            throw new IllegalArgumentException("ws belongs to another LstmLayer");
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
        private final Buffer inputs;      // (T, B, X)
        private final Buffer gates;       // (T, B, 4H) pre-activations, then the post-activation gates in place
        private final Buffer c;           // (T, B, H) cell states
        private final Buffer h;           // (T, B, H) outputs
        private final Buffer outputGrads; // (T, B, H) dL/dh_t from the task
        private final Buffer zeros;       // (B, H) never written: c_{-1}, and dc after the last step
        private final Buffer dPreact;     // (T, B, 4H) dL/dz
        private final Buffer dh;          // (B, H) total gradient reaching the current step's h
        private final Buffer dc;          // (B, H) cell-state gradient carried to the previous step

        private Workspace(int steps, int batch) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be at least 1, got " + steps);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
            long largest = Math.max(Math.multiplyExact((long) steps * batch, inputSize),
                    Math.multiplyExact((long) steps * batch, GateLayout.GATES * (long) hidden));
            if (largest > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("steps " + steps + " * batch " + batch + " * max(inputSize, 4 * "
                        + "hidden) is " + largest + " elements, more than one buffer can hold (" + Integer.MAX_VALUE
                        + ")");
            }
            this.steps = steps;
            this.batch = batch;
            int tb = Math.multiplyExact(steps, batch);
            int g4 = GateLayout.GATES * hidden;
            inputs = backend.allocate(Math.multiplyExact(tb, inputSize));
            gates = backend.allocate(Math.multiplyExact(tb, g4));
            c = backend.allocate(Math.multiplyExact(tb, hidden));
            h = backend.allocate(Math.multiplyExact(tb, hidden));
            outputGrads = backend.allocate(Math.multiplyExact(tb, hidden));
            zeros = backend.allocate(Math.multiplyExact(batch, hidden));
            dPreact = backend.allocate(Math.multiplyExact(tb, g4));
            dh = backend.allocate(batch * hidden);
            dc = backend.allocate(batch * hidden);
        }

        private LstmLayer layer() {
            return LstmLayer.this;
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
         * The inputs {@code (T, B, X)}, time-major; a task may write them on the device instead of
         * {@link #setInputs}.
         *
         * @return the input buffer, owned by this workspace
         */
        public Buffer inputs() {
            return inputs;
        }

        /**
         * The outputs {@code h_t}, {@code (T, B, H)}, time-major, written by {@link #forward}.
         *
         * @return the output buffer, owned by this workspace
         */
        public Buffer outputs() {
            return h;
        }

        /**
         * The gradient of the loss with respect to the outputs, {@code (T, B, H)}: the task writes it.
         *
         * @return the output-gradient buffer, owned by this workspace
         */
        public Buffer outputGrads() {
            return outputGrads;
        }

        /**
         * Uploads the inputs {@code (T, B, X)}, time-major.
         *
         * @param values exactly {@code T * B * X} values
         * @throws IllegalArgumentException when {@code values} is null or of another length
         */
        public void setInputs(double[] values) {
            upload(values, inputs, "inputs");
        }

        /**
         * Uploads {@code dL/dh_t}, {@code (T, B, H)}, time-major.
         *
         * @param values exactly {@code T * B * H} values
         * @throws IllegalArgumentException when {@code values} is null or of another length
         */
        public void setOutputGrads(double[] values) {
            upload(values, outputGrads, "outputGrads");
        }

        /**
         * The outputs {@code (T, B, H)} of the last forward. Waits for the device.
         *
         * @return a new array of {@code T * B * H} values, time-major
         */
        public double[] downloadOutputs() {
            return backend.download(h);
        }

        private void upload(double[] values, Buffer dst, String name) {
            if (values == null) {
                throw new IllegalArgumentException(name + " must not be null");
            }
            if (values.length != dst.length()) {
                throw new IllegalArgumentException(name + " must hold " + dst.length() + " values, holds "
                        + values.length);
            }
            backend.upload(values, dst);
        }

        private Buffer stepOf(Buffer seq, int t, int width) {
            return seq.slice(t * batch * width, batch * width);
        }

        private Buffer gatesAt(int t) {
            return stepOf(gates, t, GateLayout.GATES * hidden);
        }

        private Buffer dPreactAt(int t) {
            return stepOf(dPreact, t, GateLayout.GATES * hidden);
        }

        private Buffer cAt(int t) {
            return stepOf(c, t, hidden);
        }

        private Buffer hAt(int t) {
            return stepOf(h, t, hidden);
        }

        private Buffer outputGradAt(int t) {
            return stepOf(outputGrads, t, hidden);
        }

        private Buffer cPrev(int t) {
            return t == 0 ? zeros : cAt(t - 1);
        }

        @Override
        public void close() {
            for (Buffer buf : new Buffer[] {inputs, gates, c, h, outputGrads, zeros, dPreact, dh, dc}) {
                buf.close();
            }
        }
    }
}

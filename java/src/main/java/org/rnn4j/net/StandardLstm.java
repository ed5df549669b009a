package org.rnn4j.net;

import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.rng.NumpyRandom;

/**
 * One layer of the standard LSTM, PyTorch's {@code nn.LSTM(inputSize, hidden)} (one layer, unidirectional, with
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
public final class StandardLstm implements AutoCloseable {

    private static final int WEIGHT_IH = 0;
    private static final int WEIGHT_HH = 1;
    private static final int BIAS_IH = 2;
    private static final int BIAS_HH = 3;

    private final Backend backend;
    private final int inputSize;
    private final int hidden;
    private final ParameterArena arena;

    /** A layer with zero parameters; call {@link #initLikePyTorch} or {@link #setParameters}. */
    public StandardLstm(Backend backend, int inputSize, int hidden) {
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
        this.backend = backend;
        this.inputSize = inputSize;
        this.hidden = hidden;
        int g4 = GateLayout.GATES * hidden;
        this.arena = new ParameterArena(backend, new ParameterArena.Layout()
                .add("weight_ih", g4, inputSize)
                .add("weight_hh", g4, hidden)
                .add("bias_ih", 1, g4)
                .add("bias_hh", 1, g4));
    }

    /**
     * PyTorch's initialisation of {@code nn.LSTM}: every parameter uniform in {@code [-k, k)}, {@code k = 1/sqrt(H)},
     * drawn tensor by tensor in the order of {@link #parameterTensors()}, each value {@code -k + 2k * u} with
     * {@code u = rng.randomSample()} (numpy's {@code uniform(-k, k)}).
     */
    public void initLikePyTorch(NumpyRandom rng) {
        double k = 1 / Math.sqrt(hidden);
        double[] values = new double[arena.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = -k + (k - -k) * rng.randomSample();
        }
        setParameters(values);
    }

    public int inputSize() {
        return inputSize;
    }

    public int hidden() {
        return hidden;
    }

    public Backend backend() {
        return backend;
    }

    /** {@code weight_ih (4H, X)}, {@code weight_hh (4H, H)}, {@code bias_ih (1, 4H)}, {@code bias_hh (1, 4H)}. */
    public List<ParamTensor> parameterTensors() {
        return arena.tensors();
    }

    /** All parameters, in the order of {@link #parameterTensors()}. Waits for the device. */
    public double[] parameters() {
        return arena.downloadParams();
    }

    public void setParameters(double[] values) {
        arena.uploadParams(values);
    }

    /** The gradients left by the last {@link #backward}, laid out as the parameters. Waits for the device. */
    public double[] gradients() {
        return arena.downloadGrads();
    }

    /** Parameters of a layer: {@code 4H*X + 4H*H + 8H}; the arena holds them twice (with their gradients). */
    public static long parameterCount(int inputSize, int hidden) {
        long g4 = (long) GateLayout.GATES * hidden;
        return g4 * inputSize + g4 * hidden + 2 * g4;
    }

    /**
     * Elements of one {@link Workspace}: {@code T*B*(X + 11H) + 3*B*H} (inputs, pre-activations/gates, cell states,
     * outputs, output gradients, pre-activation gradients; the zero state and two per-step gradients).
     */
    public static long workspaceElements(int steps, int batch, int inputSize, int hidden) {
        return (long) steps * batch * (inputSize + 11L * hidden) + 3L * batch * hidden;
    }

    /** A workspace for {@code batch} sequences of {@code steps} steps. */
    public Workspace workspace(int steps, int batch) {
        return new Workspace(steps, batch);
    }

    /** Plain SGD over every parameter: {@code params -= learningRate * grads}. */
    public void sgdStep(double learningRate) {
        arena.sgdStep(learningRate);
    }

    /**
     * The forward pass over every step, from zero initial state: {@link Workspace#inputs()} {@code (T, B, X)} to
     * {@link Workspace#outputs()} {@code (T, B, H)}, keeping the gates and cell states the backward needs.
     */
    public void forward(Workspace ws) {
        checkOwn(ws);
        int b = ws.batch;
        int h = hidden;
        int g4 = GateLayout.GATES * h;
        int rows = ws.steps * b;
        Buffer wIh = arena.param(WEIGHT_IH);
        Buffer wHh = arena.param(WEIGHT_HH);
        Buffer bIh = arena.param(BIAS_IH);
        Buffer bHh = arena.param(BIAS_HH);
        // The input projection of all T * B rows at once: preact_all = X_all W_ih^T.
        backend.gemm(false, true, rows, g4, inputSize, 1, ws.inputs, inputSize, wIh, inputSize, 0, ws.gates, g4);
        for (int t = 0; t < ws.steps; t++) {
            Buffer z = ws.gatesAt(t); // (B, 4H): pre-activations, then the gates in place
            if (t > 0) {
                backend.gemm(false, true, b, g4, h, 1, ws.hAt(t - 1), h, wHh, h, 1, z, g4);
            }
            backend.standardLstmCellForward(b, h, z, bIh, bHh, ws.cPrev(t), z, ws.cAt(t), ws.hAt(t));
        }
    }

    /**
     * The backward pass after {@link #forward}: from {@link Workspace#outputGrads()} {@code (T, B, H)}, the gradient
     * of the loss with respect to every output {@code h_t} (which the task writes), to the gradient of every parameter,
     * written (not accumulated).
     */
    public void backward(Workspace ws) {
        checkOwn(ws);
        int b = ws.batch;
        int h = hidden;
        int g4 = GateLayout.GATES * h;
        int steps = ws.steps;
        Buffer wHh = arena.param(WEIGHT_HH);
        for (int t = steps - 1; t >= 0; t--) {
            boolean last = t == steps - 1;
            Buffer dh;
            if (last) {
                dh = ws.outputGradAt(t); // nothing comes back from a later step
            } else {
                // dh_t = dL/dh_t + dz_{t+1} W_hh, the gradient through the next step's recurrent GEMM
                dh = ws.dh;
                backend.copyMatrix(b, h, ws.outputGradAt(t), h, dh, h);
                backend.gemm(false, false, b, h, g4, 1, ws.dPreactAt(t + 1), g4, wHh, h, 1, dh, h);
            }
            backend.standardLstmCellBackward(b, h, ws.gatesAt(t), ws.cAt(t), ws.cPrev(t), dh,
                    last ? ws.zeros : ws.dc, ws.dPreactAt(t), ws.dc);
        }
        int rows = steps * b;
        // dW_ih = dPreact_all^T X_all over all T * B rows.
        backend.gemm(true, false, g4, inputSize, rows, 1, ws.dPreact, g4, ws.inputs, inputSize, 0,
                arena.grad(WEIGHT_IH), inputSize);
        // dW_hh = dPreact[1 .. T-1]^T H[0 .. T-2]; with one step there is no h_{t-1} and k = 0 writes zeros.
        int recurrentRows = (steps - 1) * b;
        Buffer dzLater = steps > 1 ? ws.dPreact.slice(b * g4, recurrentRows * g4) : ws.dPreact;
        Buffer hEarlier = steps > 1 ? ws.h.slice(0, recurrentRows * h) : ws.h;
        backend.gemm(true, false, g4, h, recurrentRows, 1, dzLater, g4, hEarlier, h, 0, arena.grad(WEIGHT_HH), h);
        // Both biases enter z the same way: d b_ih = d b_hh = the column sums of dPreact.
        Buffer dbIh = arena.grad(BIAS_IH);
        backend.sumRows(rows, g4, ws.dPreact, dbIh, false);
        backend.copyMatrix(1, g4, dbIh, g4, arena.grad(BIAS_HH), g4);
    }

    private void checkOwn(Workspace ws) {
        if (ws == null) {
            throw new IllegalArgumentException("ws must not be null");
        }
        if (ws.layer() != this) {
            throw new IllegalArgumentException("ws belongs to another StandardLstm");
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

        private StandardLstm layer() {
            return StandardLstm.this;
        }

        public int steps() {
            return steps;
        }

        public int batch() {
            return batch;
        }

        /** The inputs {@code (T, B, X)}, time-major. */
        public Buffer inputs() {
            return inputs;
        }

        /** The outputs {@code h_t}, {@code (T, B, H)}, time-major, written by {@link #forward}. */
        public Buffer outputs() {
            return h;
        }

        /** The gradient of the loss with respect to the outputs, {@code (T, B, H)}: the task writes it. */
        public Buffer outputGrads() {
            return outputGrads;
        }

        /** Uploads the inputs {@code (T, B, X)}, time-major. */
        public void setInputs(double[] values) {
            upload(values, inputs, "inputs");
        }

        /** Uploads {@code dL/dh_t}, {@code (T, B, H)}, time-major. */
        public void setOutputGrads(double[] values) {
            upload(values, outputGrads, "outputGrads");
        }

        /** The outputs {@code (T, B, H)} of the last forward. Waits for the device. */
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

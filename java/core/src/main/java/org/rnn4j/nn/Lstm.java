package org.rnn4j.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.net.ParamTensor;

/**
 * A stack of {@code numLayers} LSTM layers with the standard cell: PyTorch's
 * {@code nn.LSTM(inputSize, hidden, num_layers=numLayers)} (unidirectional, with biases, {@code batch_first=False}),
 * written once against {@link Backend}, so it runs on the CPU and on CUDA alike. Layer {@code k} reads the outputs of
 * layer {@code k - 1} (the first layer reads the inputs) and, per step {@code t}:
 * <pre>
 *   z_t = x_t W_ih^T + h_{t-1} W_hh^T + b_ih + b_hh           gate blocks [i | f | g | o] ({@link GateLayout})
 *   i, f, o = sigmoid(z_i, z_f, z_o),  g = tanh(z_g)
 *   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t)            (h_{-1}, c_{-1}) = (h0[k], c0[k]), zero by default
 * </pre>
 * Sequences are time-major: inputs {@code (T, B, inputSize)}, outputs (the last layer's {@code h_t})
 * {@code (T, B, hidden)}, states {@code (numLayers, B, hidden)}, all row-major.
 *
 * <p><b>Parameters</b> have PyTorch's names, shapes, order and row-major layout, per layer {@code k}:
 * {@code weight_ih_l{k} (4H, in_k)} ({@code in_0 = inputSize}, else {@code H}), {@code weight_hh_l{k} (4H, H)},
 * {@code bias_ih_l{k} (4H)} and {@code bias_hh_l{k} (4H)} (stored as {@code (1, 4H)}), each name behind the caller's
 * prefix. They and their gradients live in a {@link ParameterArena}: either the layer's own
 * ({@link #create(Backend, int, int, int, long)}) or one the caller allocated for several layers after describing this
 * layer's tensors into its layout with {@link #addParameters}. {@link #initialize(long)} draws every parameter uniform in
 * {@code [-1/sqrt(H), 1/sqrt(H))} as PyTorch does (from {@link SplittableRandom}, so the same distribution, not
 * PyTorch's numbers).
 *
 * <p><b>Training</b> runs on a {@link Workspace} ({@link #workspace(int, int)}): {@link #forward(Workspace)} keeps the
 * gates and states that {@link #backward(Workspace)} needs, which writes (not accumulates) the gradient of every
 * parameter into the arena, and the gradients of the inputs, {@code h0} and {@code c0} into the workspace. The
 * algorithm is the one cuDNN uses: per layer, the input projections of all {@code T * B} rows in one GEMM before the
 * recurrence, then per step one recurrent GEMM and one fused cell operation; backward per step one GEMM and the fused
 * cell backward, then the weight gradients as two GEMMs over all rows and the bias gradients as one column sum.
 *
 * <p><b>Inference and generation</b> run on a {@link State} ({@link #state(int)}), which holds only the recurrent state
 * {@code (h, c)} on the device and what one step needs: {@link #forward(State, Buffer, Buffer)} runs a whole sequence
 * step by step and {@link #step(State, Buffer)} one step, both continuing from the state and leaving the new state on
 * the device.
 *
 * <p><b>Dropout</b> between layers, as {@code nn.LSTM}'s {@code dropout}: with {@code dropout = p > 0} and more than
 * one layer, the training forward ({@link #forward(Workspace)}) drops each output of every layer but the last with
 * probability {@code p} and scales the rest by {@code 1/(1 - p)} before the next layer reads them
 * ({@link Backend#dropoutForward}, a Philox counter-based draw, the same on every backend), and the backward passes
 * the gradient through the same mask. The draws come from {@link #setDropoutSeed(long)}'s seed and a counter that
 * advances with every forward, so a run is reproducible. Only while {@link #isTraining()} (the default; PyTorch's
 * {@code train()} mode): with {@link #setTraining(boolean) setTraining(false)} and on the inference path
 * ({@link State}) there is no dropout. A forward recorded with {@link Backend#record} replays with the masks it was
 * recorded with.
 *
 * <p>Nothing in {@code forward}, {@code backward} or {@code step} waits for the device, and none of them allocates. Not
 * thread-safe: one thread drives a layer and its backend at a time.
 */
public final class Lstm implements AutoCloseable {

    private static final String[] BASES = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};

    private final Backend backend;
    private final ParameterArena arena;
    private final boolean ownsArena;
    private final String prefix;
    private final int inputSize;
    private final int hidden;
    private final int numLayers;
    private final double dropout;
    private final Buffer[] wIh;
    private final Buffer[] wHh;
    private final Buffer[] bIh;
    private final Buffer[] bHh;
    private final Buffer[] dwIh;
    private final Buffer[] dwHh;
    private final Buffer[] dbIh;
    private final Buffer[] dbHh;
    private boolean training = true;
    private long dropoutSeed;
    private long dropoutOffset;

    /**
     * Adds the tensors of an {@code Lstm} of these sizes to {@code layout}, each name behind {@code prefix} (for
     * example {@code "lstm."} gives {@code lstm.weight_ih_l0}, PyTorch's {@code state_dict} name in a module whose
     * attribute is {@code lstm}), so that an arena allocated from the layout can hold this layer beside others.
     *
     * @param layout    the layout to extend
     * @param prefix    put before every name; may be empty, not null
     * @param inputSize features per input row, at least 1
     * @param hidden    hidden units {@code H}, at least 1
     * @param numLayers stacked layers, at least 1
     * @return {@code layout}
     * @throws IllegalArgumentException when an argument is out of range or a name is already in the layout
     */
    public static ParameterArena.Layout addParameters(ParameterArena.Layout layout, String prefix, int inputSize,
                                                      int hidden, int numLayers) {
        if (layout == null) {
            throw new IllegalArgumentException("layout must not be null");
        }
        if (prefix == null) {
            throw new IllegalArgumentException("prefix must not be null");
        }
        checkSizes(inputSize, hidden, numLayers);
        int g4 = GateLayout.GATES * hidden;
        for (int k = 0; k < numLayers; k++) {
            layout.add(prefix + "weight_ih_l" + k, g4, k == 0 ? inputSize : hidden);
            layout.add(prefix + "weight_hh_l" + k, g4, hidden);
            layout.add(prefix + "bias_ih_l" + k, 1, g4);
            layout.add(prefix + "bias_hh_l" + k, 1, g4);
        }
        return layout;
    }

    /**
     * The number of parameters: per layer {@code 4H * in + 4H * H + 8H}.
     *
     * @param inputSize features per input row
     * @param hidden    hidden units
     * @param numLayers stacked layers
     * @return the count (the arena holds twice as many values, with the gradients)
     */
    public static long parameterCount(int inputSize, int hidden, int numLayers) {
        checkSizes(inputSize, hidden, numLayers);
        long g4 = (long) GateLayout.GATES * hidden;
        return g4 * inputSize + g4 * hidden + 2 * g4 + (numLayers - 1L) * (2 * g4 * hidden + 2 * g4);
    }

    /**
     * A layer with an arena of its own, its parameters initialised by {@link #initialize(long)}, no dropout.
     *
     * @param backend   where the parameters live and the operations run
     * @param inputSize features per input row, at least 1
     * @param hidden    hidden units, at least 1
     * @param numLayers stacked layers, at least 1
     * @param seed      seed of the initialisation
     * @return the layer; {@link #close()} releases its arena
     */
    public static Lstm create(Backend backend, int inputSize, int hidden, int numLayers, long seed) {
        return create(backend, inputSize, hidden, numLayers, 0, seed);
    }

    /**
     * A layer with an arena of its own, its parameters initialised by {@link #initialize(long)}.
     *
     * @param backend   where the parameters live and the operations run
     * @param inputSize features per input row, at least 1
     * @param hidden    hidden units, at least 1
     * @param numLayers stacked layers, at least 1
     * @param dropout   dropout probability between layers, in {@code [0, 1)}
     * @param seed      seed of the initialisation, and of the dropout draws
     * @return the layer; {@link #close()} releases its arena
     */
    public static Lstm create(Backend backend, int inputSize, int hidden, int numLayers, double dropout, long seed) {
        if (backend == null) {
            throw new IllegalArgumentException("backend must not be null");
        }
        checkDropout(dropout);
        ParameterArena arena = new ParameterArena(backend,
                addParameters(new ParameterArena.Layout(), "", inputSize, hidden, numLayers));
        Lstm lstm = new Lstm(arena, "", inputSize, hidden, numLayers, dropout, true);
        lstm.initialize(seed);
        lstm.setDropoutSeed(seed);
        return lstm;
    }

    /**
     * A layer over tensors that {@link #addParameters} put into {@code arena}'s layout under {@code prefix}; the arena
     * stays the caller's (closing this layer does not close it). The parameters are whatever the arena holds (zero
     * when it is new): call {@link #initialize(long)} or {@link #setParameters(double[])}.
     *
     * @param arena     the arena holding this layer's tensors
     * @param prefix    the prefix given to {@link #addParameters}
     * @param inputSize features per input row, at least 1
     * @param hidden    hidden units, at least 1
     * @param numLayers stacked layers, at least 1
     * @param dropout   dropout probability between layers, in {@code [0, 1)} (the draws' seed is 0 until
     *                  {@link #setDropoutSeed(long)})
     * @throws IllegalArgumentException when an argument is out of range, or the arena lacks a tensor or holds one of
     *                                  another shape
     */
    public Lstm(ParameterArena arena, String prefix, int inputSize, int hidden, int numLayers, double dropout) {
        this(arena, prefix, inputSize, hidden, numLayers, dropout, false);
    }

    private Lstm(ParameterArena arena, String prefix, int inputSize, int hidden, int numLayers, double dropout,
                 boolean ownsArena) {
        if (arena == null) {
            throw new IllegalArgumentException("arena must not be null");
        }
        if (prefix == null) {
            throw new IllegalArgumentException("prefix must not be null");
        }
        checkSizes(inputSize, hidden, numLayers);
        checkDropout(dropout);
        this.backend = arena.backend();
        this.arena = arena;
        this.ownsArena = ownsArena;
        this.prefix = prefix;
        this.inputSize = inputSize;
        this.hidden = hidden;
        this.numLayers = numLayers;
        this.dropout = dropout;
        wIh = new Buffer[numLayers];
        wHh = new Buffer[numLayers];
        bIh = new Buffer[numLayers];
        bHh = new Buffer[numLayers];
        dwIh = new Buffer[numLayers];
        dwHh = new Buffer[numLayers];
        dbIh = new Buffer[numLayers];
        dbHh = new Buffer[numLayers];
        int g4 = GateLayout.GATES * hidden;
        for (int k = 0; k < numLayers; k++) {
            int in = k == 0 ? inputSize : hidden;
            wIh[k] = view(arena, name("weight_ih", k), g4, in, false);
            wHh[k] = view(arena, name("weight_hh", k), g4, hidden, false);
            bIh[k] = view(arena, name("bias_ih", k), 1, g4, false);
            bHh[k] = view(arena, name("bias_hh", k), 1, g4, false);
            dwIh[k] = view(arena, name("weight_ih", k), g4, in, true);
            dwHh[k] = view(arena, name("weight_hh", k), g4, hidden, true);
            dbIh[k] = view(arena, name("bias_ih", k), 1, g4, true);
            dbHh[k] = view(arena, name("bias_hh", k), 1, g4, true);
        }
    }

    private static Buffer view(ParameterArena arena, String name, int rows, int cols, boolean grad) {
        ParamTensor t = arena.tensor(name);
        if (t.rows() != rows || t.cols() != cols) {
            throw new IllegalArgumentException("arena tensor " + name + " is (" + t.rows() + ", " + t.cols()
                    + "), this layer needs (" + rows + ", " + cols + ")");
        }
        return grad ? arena.grad(name) : arena.param(name);
    }

    private static void checkSizes(int inputSize, int hidden, int numLayers) {
        if (inputSize < 1) {
            throw new IllegalArgumentException("inputSize must be at least 1, got " + inputSize);
        }
        if (hidden < 1) {
            throw new IllegalArgumentException("hidden must be at least 1, got " + hidden);
        }
        if (hidden > Integer.MAX_VALUE / GateLayout.GATES) {
            throw new IllegalArgumentException("hidden " + hidden + " is too large: 4 * hidden must fit an int");
        }
        if (numLayers < 1) {
            throw new IllegalArgumentException("numLayers must be at least 1, got " + numLayers);
        }
    }

    private static void checkDropout(double dropout) {
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
    }

    private String name(String base, int layer) {
        return prefix + base + "_l" + layer;
    }

    /** @return features per input row */
    public int inputSize() {
        return inputSize;
    }

    /** @return hidden units per layer, {@code H} */
    public int hidden() {
        return hidden;
    }

    /** @return the number of stacked layers */
    public int numLayers() {
        return numLayers;
    }

    /** @return the dropout probability between layers */
    public double dropout() {
        return dropout;
    }

    /** @return whether the training forward applies dropout (PyTorch's {@code module.training}); true when made */
    public boolean isTraining() {
        return training;
    }

    /**
     * PyTorch's {@code train()} / {@code eval()}: whether {@link #forward(Workspace)} applies dropout between
     * layers. The inference path ({@link State}) never does.
     *
     * @param training true for training, false for evaluation
     */
    public void setTraining(boolean training) {
        this.training = training;
    }

    /**
     * Restarts the dropout draws: the masks of the following forwards come from this seed and a counter starting at
     * 0, so the same seed gives the same masks again.
     *
     * @param seed the Philox key
     */
    public void setDropoutSeed(long seed) {
        this.dropoutSeed = seed;
        this.dropoutOffset = 0;
    }

    /** @return the Philox key of the dropout draws ({@link #setDropoutSeed(long)}) */
    public long dropoutSeed() {
        return dropoutSeed;
    }

    /**
     * The dropout draws' counter: where the next training forward's masks start. With {@link #dropoutSeed()} it is
     * the whole state of the draws, which a checkpoint keeps so that a resumed run draws the same masks.
     *
     * @return the counter, at least 0
     */
    public long dropoutOffset() {
        return dropoutOffset;
    }

    /**
     * Puts the dropout draws where {@link #dropoutSeed()} and {@link #dropoutOffset()} said they were, such as a
     * checkpoint's: the following forwards draw the masks an uninterrupted run would have drawn.
     *
     * @param seed   the Philox key
     * @param offset the counter, at least 0
     * @throws IllegalArgumentException when {@code offset} is negative
     */
    public void setDropoutState(long seed, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must be at least 0, got " + offset);
        }
        this.dropoutSeed = seed;
        this.dropoutOffset = offset;
    }

    private boolean dropping() {
        return training && dropout > 0 && numLayers > 1;
    }

    /** @return the backend the layer runs on */
    public Backend backend() {
        return backend;
    }

    /** @return the arena holding the parameters and gradients (shared with other layers when the caller made it) */
    public ParameterArena arena() {
        return arena;
    }

    /**
     * This layer's tensors, in PyTorch's order ({@code weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
     * weight_ih_l1, ...}); names include the prefix and offsets index the whole arena.
     *
     * @return the tensors
     */
    public List<ParamTensor> parameterTensors() {
        List<ParamTensor> out = new ArrayList<>();
        for (int k = 0; k < numLayers; k++) {
            for (String base : BASES) {
                out.add(arena.tensor(name(base, k)));
            }
        }
        return out;
    }

    /**
     * PyTorch's initialisation: every parameter uniform in {@code [-k, k)}, {@code k = 1/sqrt(H)}, drawn tensor by
     * tensor in the order of {@link #parameterTensors()}, each value {@code -k + 2k * u} with
     * {@code u = new SplittableRandom(seed).nextDouble()}.
     *
     * @param seed the generator's seed
     */
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double k = 1 / Math.sqrt(hidden);
        for (ParamTensor t : parameterTensors()) {
            double[] values = new double[t.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = -k + 2 * k * rng.nextDouble();
            }
            arena.uploadParam(t.name(), values);
        }
    }

    /**
     * This layer's parameters, the tensors of {@link #parameterTensors()} flattened and concatenated. Waits for the
     * device.
     *
     * @return the values
     */
    public double[] parameters() {
        return gather(false);
    }

    /**
     * This layer's gradients, laid out as {@link #parameters()}, as the last {@link #backward} left them. Waits for
     * the device.
     *
     * @return the values
     */
    public double[] gradients() {
        return gather(true);
    }

    /**
     * Overwrites this layer's parameters: the tensors of {@link #parameterTensors()} flattened and concatenated (so
     * PyTorch's {@code nn.LSTM} parameters in {@code named_parameters()} order).
     *
     * @param values {@link #parameterCount} values
     */
    public void setParameters(double[] values) {
        if (values == null) {
            throw new IllegalArgumentException("values must not be null");
        }
        long want = parameterCount(inputSize, hidden, numLayers);
        if (values.length != want) {
            throw new IllegalArgumentException("values must hold " + want + " parameters, holds " + values.length);
        }
        int at = 0;
        for (ParamTensor t : parameterTensors()) {
            double[] part = new double[t.size()];
            System.arraycopy(values, at, part, 0, part.length);
            arena.uploadParam(t.name(), part);
            at += part.length;
        }
    }

    private double[] gather(boolean grads) {
        double[] out = new double[Math.toIntExact(parameterCount(inputSize, hidden, numLayers))];
        int at = 0;
        for (ParamTensor t : parameterTensors()) {
            Buffer b = grads ? arena.grad(t.name()) : arena.param(t.name());
            backend.download(b, out, at);
            at += t.size();
        }
        return out;
    }

    /**
     * Elements a {@link Workspace} allocates, for memory planning:
     * {@code 2TBX + L(T B 4H + 2(T+1)BH) + TB4H + TBH(L > 1 ? 2 : 1) + 8LBH + 3BH}.
     *
     * @param steps     sequence length {@code T}
     * @param batch     sequences per batch {@code B}
     * @param inputSize features per input row {@code X}
     * @param hidden    hidden units {@code H}
     * @param numLayers stacked layers {@code L}
     * @return the element count (times the precision's bytes)
     */
    public static long workspaceElements(int steps, int batch, int inputSize, int hidden, int numLayers) {
        long tb = (long) steps * batch;
        long bh = (long) batch * hidden;
        long g4 = 4L * hidden;
        return 2 * tb * inputSize + numLayers * (tb * g4 + 2 * (steps + 1L) * bh) + tb * g4
                + tb * hidden * (numLayers > 1 ? 2 : 1) + 8L * numLayers * bh + 3 * bh;
    }

    /**
     * Elements a {@link Workspace} of a layer with dropout allocates: {@link #workspaceElements(int, int, int, int,
     * int)} plus, when {@code dropout > 0} and {@code L > 1}, a mask and the dropped outputs per layer but the last,
     * {@code 2 (L - 1) T B H}.
     *
     * @param steps     sequence length {@code T}
     * @param batch     sequences per batch {@code B}
     * @param inputSize features per input row {@code X}
     * @param hidden    hidden units {@code H}
     * @param numLayers stacked layers {@code L}
     * @param dropout   dropout probability between layers
     * @return the element count (times the precision's bytes)
     */
    public static long workspaceElements(int steps, int batch, int inputSize, int hidden, int numLayers,
                                         double dropout) {
        long base = workspaceElements(steps, batch, inputSize, hidden, numLayers);
        return dropout > 0 && numLayers > 1 ? base + 2L * (numLayers - 1) * steps * batch * hidden : base;
    }

    /**
     * Elements a {@link State} allocates: {@code 3LBH + 4BH} (the state, with the cell state twice, and one step's
     * pre-activations).
     *
     * @param batch     sequences per batch
     * @param hidden    hidden units
     * @param numLayers stacked layers
     * @return the element count
     */
    public static long stateElements(int batch, int hidden, int numLayers) {
        return 3L * numLayers * batch * hidden + 4L * batch * hidden;
    }

    /**
     * A training workspace for {@code batch} sequences of {@code steps} steps, zero initial state.
     *
     * @param steps sequence length, at least 1
     * @param batch sequences, at least 1
     * @return the workspace; close it to release its buffers
     */
    public Workspace workspace(int steps, int batch) {
        return new Workspace(steps, batch);
    }

    /**
     * An inference state for {@code batch} sequences, zero.
     *
     * @param batch sequences, at least 1
     * @return the state; close it to release its buffers
     */
    public State state(int batch) {
        return new State(batch);
    }

    /**
     * The training forward pass over every step and layer: from {@link Workspace#inputs()} and the initial state
     * (zero, or as set on the workspace) to {@link Workspace#outputs()} and the final state
     * {@link Workspace#finalH()}, {@link Workspace#finalC()}, keeping what {@link #backward} needs.
     *
     * @param ws a workspace of this layer
     */
    public void forward(Workspace ws) {
        checkOwn(ws);
        int b = ws.batch;
        int h = hidden;
        int bh = b * h;
        int g4 = GateLayout.GATES * h;
        int rows = ws.steps * b;
        ws.dropped = dropping();
        for (int k = 0; k < numLayers; k++) {
            int in = k == 0 ? inputSize : h;
            Buffer x = ws.layerInputs(k);
            Buffer hs = ws.hSeq[k];
            Buffer cs = ws.cSeq[k];
            // Slot 0 of the state sequences holds (h_{-1}, c_{-1}).
            backend.copyMatrix(1, bh, ws.stateGiven ? ws.h0.slice(k * bh, bh) : ws.zeros, bh, hs.slice(0, bh), bh);
            backend.copyMatrix(1, bh, ws.stateGiven ? ws.c0.slice(k * bh, bh) : ws.zeros, bh, cs.slice(0, bh), bh);
            // The input projection of all T * B rows at once.
            backend.gemm(false, true, rows, g4, in, 1, x, in, wIh[k], in, 0, ws.gates[k], g4);
            for (int t = 0; t < ws.steps; t++) {
                Buffer z = ws.gates[k].slice(t * b * g4, b * g4);
                if (t > 0 || ws.stateGiven) { // with zero initial state h_{-1} W_hh^T = 0
                    backend.gemm(false, true, b, g4, h, 1, hs.slice(t * bh, bh), h, wHh[k], h, 1, z, g4);
                }
                backend.standardLstmCellForward(b, h, z, bIh[k], bHh[k], cs.slice(t * bh, bh), z,
                        cs.slice((t + 1) * bh, bh), hs.slice((t + 1) * bh, bh));
            }
            backend.copyMatrix(1, bh, hs.slice(ws.steps * bh, bh), bh, ws.hN.slice(k * bh, bh), bh);
            backend.copyMatrix(1, bh, cs.slice(ws.steps * bh, bh), bh, ws.cN.slice(k * bh, bh), bh);
            if (ws.dropped && k < numLayers - 1) {
                Buffer outs = ws.layerOutputs(k);
                backend.dropoutForward(outs, dropout, dropoutSeed, dropoutOffset, ws.masks[k], ws.droppedOutputs[k]);
                dropoutOffset += (outs.length() + 3L) / 4; // the counters this call drew
            }
        }
    }

    /**
     * The backward pass after {@link #forward(Workspace)}, with the input gradients: see
     * {@link #backward(Workspace, boolean)}.
     *
     * @param ws a workspace of this layer, after {@link #forward(Workspace)}
     */
    public void backward(Workspace ws) {
        backward(ws, true);
    }

    /**
     * The backward pass after {@link #forward(Workspace)}: from the gradient of the loss with respect to the outputs
     * ({@link Workspace#outputGrads()}, which the caller writes) and to the final state
     * ({@link Workspace#finalHGrads()}, {@link Workspace#finalCGrads()}, zero unless set), writes (not accumulates)
     * the gradient of every parameter into the arena's gradient half, and of the initial state into
     * {@link Workspace#initialHGrads()}, {@link Workspace#initialCGrads()} (also when the initial state was zero),
     * and, when {@code inputGrads}, of the inputs into {@link Workspace#inputGrads()}.
     *
     * @param ws         a workspace of this layer, after {@link #forward(Workspace)}
     * @param inputGrads whether to compute {@link Workspace#inputGrads()} (one GEMM; not needed when the inputs are
     *                   data)
     */
    public void backward(Workspace ws, boolean inputGrads) {
        checkOwn(ws);
        int b = ws.batch;
        int h = hidden;
        int bh = b * h;
        int g4 = GateLayout.GATES * h;
        int steps = ws.steps;
        int rows = steps * b;
        for (int k = numLayers - 1; k >= 0; k--) {
            int in = k == 0 ? inputSize : h;
            Buffer og = k == numLayers - 1 ? ws.outputGrads : ws.inter; // dL/d(outputs of layer k)
            Buffer cs = ws.cSeq[k];
            for (int t = steps - 1; t >= 0; t--) {
                // dh_t = dL/dh_t from above + (the final-state gradient, or what comes back through step t + 1)
                backend.copyMatrix(1, bh, og.slice(t * bh, bh), bh, ws.dh, bh);
                if (t == steps - 1) {
                    backend.sumRows(1, bh, ws.dhN.slice(k * bh, bh), ws.dh, true);
                } else {
                    backend.gemm(false, false, b, h, g4, 1, ws.dPreact.slice((t + 1) * b * g4, b * g4), g4, wHh[k], h,
                            1, ws.dh, h);
                }
                Buffer dcNext = t == steps - 1 ? ws.dcN.slice(k * bh, bh) : ws.dc;
                Buffer dcPrev = t == 0 ? ws.dc0.slice(k * bh, bh) : ws.dc;
                backend.standardLstmCellBackward(b, h, ws.gates[k].slice(t * b * g4, b * g4),
                        cs.slice((t + 1) * bh, bh), cs.slice(t * bh, bh), ws.dh, dcNext,
                        ws.dPreact.slice(t * b * g4, b * g4), dcPrev);
            }
            // dh0 = dz_0 W_hh
            backend.gemm(false, false, b, h, g4, 1, ws.dPreact.slice(0, b * g4), g4, wHh[k], h, 0,
                    ws.dh0.slice(k * bh, bh), h);
            // dW_ih = dZ^T X and dW_hh = dZ^T [h_{-1}, h_0 .. h_{T-2}] over all T * B rows; db = column sums of dZ.
            Buffer x = ws.layerInputs(k);
            backend.gemm(true, false, g4, in, rows, 1, ws.dPreact, g4, x, in, 0, dwIh[k], in);
            backend.gemm(true, false, g4, h, rows, 1, ws.dPreact, g4, ws.hSeq[k].slice(0, rows * h), h, 0, dwHh[k],
                    h);
            backend.sumRows(rows, g4, ws.dPreact, dbIh[k], false);
            backend.copyMatrix(1, g4, dbIh[k], g4, dbHh[k], g4);
            // dX = dZ W_ih: the output gradients of the layer below (its recurrence is done with ws.inter), or the
            // input gradients.
            if (k > 0) {
                backend.gemm(false, false, rows, h, g4, 1, ws.dPreact, g4, wIh[k], h, 0, ws.inter, h);
                if (ws.dropped) { // through the dropout between layer k - 1 and layer k
                    backend.dropoutBackward(ws.inter, ws.masks[k - 1], ws.inter);
                }
            } else if (inputGrads) {
                backend.gemm(false, false, rows, inputSize, g4, 1, ws.dPreact, g4, wIh[0], inputSize, 0,
                        ws.inputGrads, inputSize);
            }
        }
    }

    /**
     * The inference forward over a sequence, step by step from the state's current {@code (h, c)}: reads
     * {@code inputs (T, B, inputSize)}, writes the last layer's {@code h_t} to {@code outputs (T, B, hidden)} and
     * leaves the final state in {@code state}. Allocates nothing and keeps nothing for a backward pass; each step is
     * {@link #step(State, Buffer)}.
     *
     * @param state   a state of this layer (its batch {@code B})
     * @param inputs  {@code T * B * inputSize} values, {@code T >= 1}
     * @param outputs {@code T * B * hidden} values, disjoint from {@code inputs}
     */
    public void forward(State state, Buffer inputs, Buffer outputs) {
        checkOwn(state);
        if (inputs == null || outputs == null) {
            throw new IllegalArgumentException((inputs == null ? "inputs" : "outputs") + " must not be null");
        }
        int bx = state.batch * inputSize;
        int bh = state.batch * hidden;
        if (inputs.length() == 0 || inputs.length() % bx != 0) {
            throw new IllegalArgumentException("inputs must hold T * " + bx + " values (T >= 1, batch "
                    + state.batch + ", inputSize " + inputSize + "), holds " + inputs.length());
        }
        int steps = inputs.length() / bx;
        if (outputs.length() != (long) steps * bh) {
            throw new IllegalArgumentException("outputs must hold " + ((long) steps * bh) + " values (T = " + steps
                    + ", batch " + state.batch + ", hidden " + hidden + "), holds " + outputs.length());
        }
        if (inputs.allocation() == outputs.allocation()
                && inputs.offset() < outputs.offset() + outputs.length()
                && outputs.offset() < inputs.offset() + inputs.length()) {
            throw new IllegalArgumentException("outputs must not overlap inputs");
        }
        for (int t = 0; t < steps; t++) {
            step(state, inputs.slice(t * bx, bx));
            backend.copyMatrix(1, bh, state.output(), bh, outputs.slice(t * bh, bh), bh);
        }
    }

    /**
     * One step through every layer from the state's current {@code (h, c)}, for generation: reads
     * {@code x (B, inputSize)} and updates the state in place on the device; the new output is
     * {@link State#output()}. Allocates nothing.
     *
     * @param state a state of this layer
     * @param x     {@code B * inputSize} values
     */
    public void step(State state, Buffer x) {
        checkOwn(state);
        if (x == null) {
            throw new IllegalArgumentException("x must not be null");
        }
        int b = state.batch;
        int h = hidden;
        int bh = b * h;
        int g4 = GateLayout.GATES * h;
        if (x.length() != b * inputSize) {
            throw new IllegalArgumentException("x must hold " + (b * inputSize) + " values (batch " + b
                    + ", inputSize " + inputSize + "), holds " + x.length());
        }
        Buffer cCur = state.c[state.current];
        Buffer cNext = state.c[1 - state.current];
        for (int k = 0; k < numLayers; k++) {
            int in = k == 0 ? inputSize : h;
            Buffer input = k == 0 ? x : state.h.slice((k - 1) * bh, bh);
            Buffer hk = state.h.slice(k * bh, bh);
            backend.gemm(false, true, b, g4, in, 1, input, in, wIh[k], in, 0, state.z, g4);
            backend.gemm(false, true, b, g4, h, 1, hk, h, wHh[k], h, 1, state.z, g4);
            backend.standardLstmCellForward(b, h, state.z, bIh[k], bHh[k], cCur.slice(k * bh, bh), state.z,
                    cNext.slice(k * bh, bh), hk);
        }
        state.current = 1 - state.current;
    }

    private void checkOwn(Workspace ws) {
        if (ws == null) {
            throw new IllegalArgumentException("ws must not be null");
        }
        if (ws.owner() != this) {
            throw new IllegalArgumentException("ws belongs to another Lstm");
        }
    }

    private void checkOwn(State state) {
        if (state == null) {
            throw new IllegalArgumentException("state must not be null");
        }
        if (state.owner() != this) {
            throw new IllegalArgumentException("state belongs to another Lstm");
        }
    }

    /** Releases the arena when the layer made it ({@link #create}); an arena given by the caller stays open. */
    @Override
    public void close() {
        if (ownsArena) {
            arena.close();
        }
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

    /**
     * The activations of {@code B} sequences of {@code T} steps through every layer, for training. The caller writes
     * {@link #inputs()} (or {@link #setInputs}) and, before {@link Lstm#backward}, {@link #outputGrads()}; the other
     * buffers are the layer's results. All buffers are views of device memory, time-major and row-major.
     */
    public final class Workspace implements AutoCloseable {
        private final int steps;
        private final int batch;
        private final Buffer inputs;      // (T, B, X)
        private final Buffer[] gates;     // per layer (T, B, 4H): pre-activations, then the gates in place
        private final Buffer[] hSeq;      // per layer (T + 1, B, H): h_{-1}, then the outputs h_0 .. h_{T-1}
        private final Buffer[] cSeq;      // per layer (T + 1, B, H): c_{-1}, then c_0 .. c_{T-1}
        private final Buffer h0;          // (L, B, H)
        private final Buffer c0;
        private final Buffer hN;
        private final Buffer cN;
        private final Buffer outputGrads; // (T, B, H)
        private final Buffer dhN;         // (L, B, H)
        private final Buffer dcN;
        private final Buffer dh0;
        private final Buffer dc0;
        private final Buffer inputGrads;  // (T, B, X)
        private final Buffer dPreact;     // (T, B, 4H), one layer at a time
        private final Buffer inter;       // (T, B, H): gradient of a lower layer's outputs (L > 1 only)
        private final Buffer dh;          // (B, H)
        private final Buffer dc;          // (B, H)
        private final Buffer zeros;       // (B, H), never written
        private final Buffer[] masks;     // per layer but the last (T, B, H), with dropout only
        private final Buffer[] droppedOutputs; // per layer but the last (T, B, H): what the next layer reads
        private final List<Buffer> roots = new ArrayList<>();
        private boolean stateGiven;
        private boolean dropped;          // whether the last forward applied dropout

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
            int bh = Math.multiplyExact(batch, hidden);
            int lbh = Math.multiplyExact(numLayers, bh);
            int g4 = GateLayout.GATES * hidden;
            try {
                inputs = alloc(Math.multiplyExact(tb, inputSize));
                gates = new Buffer[numLayers];
                hSeq = new Buffer[numLayers];
                cSeq = new Buffer[numLayers];
                for (int k = 0; k < numLayers; k++) {
                    gates[k] = alloc(Math.multiplyExact(tb, g4));
                    hSeq[k] = alloc(Math.multiplyExact(steps + 1, bh));
                    cSeq[k] = alloc(Math.multiplyExact(steps + 1, bh));
                }
                h0 = alloc(lbh);
                c0 = alloc(lbh);
                hN = alloc(lbh);
                cN = alloc(lbh);
                outputGrads = alloc(Math.multiplyExact(tb, hidden));
                dhN = alloc(lbh);
                dcN = alloc(lbh);
                dh0 = alloc(lbh);
                dc0 = alloc(lbh);
                inputGrads = alloc(Math.multiplyExact(tb, inputSize));
                dPreact = alloc(Math.multiplyExact(tb, g4));
                inter = numLayers > 1 ? alloc(Math.multiplyExact(tb, hidden)) : null;
                dh = alloc(bh);
                dc = alloc(bh);
                zeros = alloc(bh);
                boolean drop = dropout > 0 && numLayers > 1;
                masks = new Buffer[drop ? numLayers - 1 : 0];
                droppedOutputs = new Buffer[masks.length];
                for (int k = 0; k < masks.length; k++) {
                    masks[k] = alloc(Math.multiplyExact(tb, hidden));
                    droppedOutputs[k] = alloc(Math.multiplyExact(tb, hidden));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private Buffer alloc(int length) {
            Buffer b = backend.allocate(length);
            roots.add(b);
            return b;
        }

        private Lstm owner() {
            return Lstm.this;
        }

        private Buffer layerOutputs(int k) {
            int bh = batch * hidden;
            return hSeq[k].slice(bh, steps * bh);
        }

        /** What layer {@code k} reads: the inputs, or the outputs of layer {@code k - 1} after any dropout. */
        private Buffer layerInputs(int k) {
            if (k == 0) {
                return inputs;
            }
            return dropped ? droppedOutputs[k - 1] : layerOutputs(k - 1);
        }

        /** @return the sequence length {@code T} */
        public int steps() {
            return steps;
        }

        /** @return the number of sequences {@code B} */
        public int batch() {
            return batch;
        }

        /** @return the inputs {@code (T, B, inputSize)}, which the caller writes */
        public Buffer inputs() {
            return inputs;
        }

        /** @return the last layer's outputs {@code h_t}, {@code (T, B, hidden)}, written by {@link Lstm#forward} */
        public Buffer outputs() {
            return layerOutputs(numLayers - 1);
        }

        /** @return the initial hidden state {@code (L, B, H)}; read only while {@link #initialStateGiven()} */
        public Buffer initialH() {
            return h0;
        }

        /** @return the initial cell state {@code (L, B, H)}; read only while {@link #initialStateGiven()} */
        public Buffer initialC() {
            return c0;
        }

        /** @return the final hidden state {@code hN (L, B, H)}, written by {@link Lstm#forward} */
        public Buffer finalH() {
            return hN;
        }

        /** @return the final cell state {@code cN (L, B, H)}, written by {@link Lstm#forward} */
        public Buffer finalC() {
            return cN;
        }

        /** @return {@code dL/d outputs}, {@code (T, B, hidden)}, which the caller writes before the backward */
        public Buffer outputGrads() {
            return outputGrads;
        }

        /** @return {@code dL/d hN}, {@code (L, B, H)}, zero unless the caller writes it */
        public Buffer finalHGrads() {
            return dhN;
        }

        /** @return {@code dL/d cN}, {@code (L, B, H)}, zero unless the caller writes it */
        public Buffer finalCGrads() {
            return dcN;
        }

        /** @return {@code dL/d h0}, {@code (L, B, H)}, written by {@link Lstm#backward} */
        public Buffer initialHGrads() {
            return dh0;
        }

        /** @return {@code dL/d c0}, {@code (L, B, H)}, written by {@link Lstm#backward} */
        public Buffer initialCGrads() {
            return dc0;
        }

        /** @return {@code dL/d inputs}, {@code (T, B, inputSize)}, written by {@link Lstm#backward} when asked */
        public Buffer inputGrads() {
            return inputGrads;
        }

        /** @return whether the forward starts from {@link #initialH()}, {@link #initialC()} (else from zero) */
        public boolean initialStateGiven() {
            return stateGiven;
        }

        /**
         * Chooses the initial state of the next forwards: {@link #initialH()}, {@link #initialC()} as the caller
         * wrote them ({@code true}), or zero ({@code false}, the default; the buffers are then not read).
         *
         * @param given whether the initial state buffers hold the state
         */
        public void setInitialStateGiven(boolean given) {
            this.stateGiven = given;
        }

        /**
         * Uploads the initial state and makes the next forwards start from it.
         *
         * @param h {@code h0 (L, B, H)}
         * @param c {@code c0 (L, B, H)}
         */
        public void setInitialState(double[] h, double[] c) {
            upload(h, h0, "h0");
            upload(c, c0, "c0");
            stateGiven = true;
        }

        /**
         * Copies the final state of the last forward into the initial state, on the device, and makes the next
         * forwards start from it: consecutive chunks of long sequences (truncated backpropagation through time).
         */
        public void carryFinalState() {
            int lbh = numLayers * batch * hidden;
            backend.copyMatrix(1, lbh, hN, lbh, h0, lbh);
            backend.copyMatrix(1, lbh, cN, lbh, c0, lbh);
            stateGiven = true;
        }

        /**
         * Uploads the inputs.
         *
         * @param values {@code (T, B, inputSize)}, time-major
         */
        public void setInputs(double[] values) {
            upload(values, inputs, "inputs");
        }

        /**
         * Uploads the gradient of the loss with respect to the outputs.
         *
         * @param values {@code (T, B, hidden)}, time-major
         */
        public void setOutputGrads(double[] values) {
            upload(values, outputGrads, "outputGrads");
        }

        /**
         * Uploads the gradients of the loss with respect to the final state (zero by default).
         *
         * @param dh {@code dL/d hN (L, B, H)}
         * @param dc {@code dL/d cN (L, B, H)}
         */
        public void setFinalStateGrads(double[] dh, double[] dc) {
            upload(dh, dhN, "dhN");
            upload(dc, dcN, "dcN");
        }

        /** @return the outputs {@code (T, B, hidden)} of the last forward; waits for the device */
        public double[] downloadOutputs() {
            return backend.download(outputs());
        }

        /** @return {@code hN (L, B, H)} of the last forward; waits for the device */
        public double[] downloadFinalH() {
            return backend.download(hN);
        }

        /** @return {@code cN (L, B, H)} of the last forward; waits for the device */
        public double[] downloadFinalC() {
            return backend.download(cN);
        }

        /** @return {@code dL/d inputs (T, B, inputSize)} of the last backward; waits for the device */
        public double[] downloadInputGrads() {
            return backend.download(inputGrads);
        }

        /** @return {@code dL/d h0 (L, B, H)} of the last backward; waits for the device */
        public double[] downloadInitialHGrads() {
            return backend.download(dh0);
        }

        /** @return {@code dL/d c0 (L, B, H)} of the last backward; waits for the device */
        public double[] downloadInitialCGrads() {
            return backend.download(dc0);
        }

        /** Releases the workspace's buffers. Idempotent. */
        @Override
        public void close() {
            for (Buffer b : roots) {
                b.close();
            }
        }
    }

    /**
     * The recurrent state {@code (h, c)} of {@code B} sequences through every layer, on the device, for
     * {@link Lstm#forward(State, Buffer, Buffer)} and {@link Lstm#step(State, Buffer)}; zero when made. It holds the
     * state, a second copy of the cell state (the step writes the new one beside the old) and one step's
     * pre-activations, nothing more.
     */
    public final class State implements AutoCloseable {
        private final int batch;
        private final Buffer h;        // (L, B, H)
        private final Buffer[] c;      // two (L, B, H): the current one is c[current]
        private final Buffer z;        // (B, 4H)
        private int current;

        private State(int batch) {
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
            this.batch = batch;
            int lbh = Math.multiplyExact(numLayers, Math.multiplyExact(batch, hidden));
            h = backend.allocate(lbh);
            c = new Buffer[2];
            c[0] = backend.allocate(lbh);
            c[1] = backend.allocate(lbh);
            z = backend.allocate(Math.multiplyExact(batch, GateLayout.GATES * hidden));
        }

        private Lstm owner() {
            return Lstm.this;
        }

        /** @return the number of sequences {@code B} */
        public int batch() {
            return batch;
        }

        /** @return the hidden state {@code (L, B, H)} (a view; valid until the next step) */
        public Buffer h() {
            return h;
        }

        /** @return the cell state {@code (L, B, H)} (a view; valid until the next step) */
        public Buffer c() {
            return c[current];
        }

        /** @return the last layer's hidden state {@code (B, H)}, the output of the last step (a view) */
        public Buffer output() {
            int bh = batch * hidden;
            return h.slice((numLayers - 1) * bh, bh);
        }

        /**
         * Overwrites the state.
         *
         * @param hValues {@code h (L, B, H)}
         * @param cValues {@code c (L, B, H)}
         */
        public void set(double[] hValues, double[] cValues) {
            upload(hValues, h, "h");
            upload(cValues, c[current], "c");
        }

        /** Sets the state to zero. */
        public void reset() {
            double[] zero = new double[h.length()];
            set(zero, zero);
        }

        /** @return {@code h (L, B, H)}; waits for the device */
        public double[] downloadH() {
            return backend.download(h);
        }

        /** @return {@code c (L, B, H)}; waits for the device */
        public double[] downloadC() {
            return backend.download(c[current]);
        }

        /** Releases the state's buffers. Idempotent. */
        @Override
        public void close() {
            h.close();
            c[0].close();
            c[1].close();
            z.close();
        }
    }
}

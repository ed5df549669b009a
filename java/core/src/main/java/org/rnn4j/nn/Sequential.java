package org.rnn4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.net.ParamTensor;

/**
 * A model: a sequence of layers ({@link Embedding}, {@link Lstm}, {@link Linear}) sharing one {@link ParameterArena},
 * each layer reading the previous one's output. Sequences are time-major, {@code (T, B, features)}, as
 * {@code nn.LSTM(batch_first=False)}; a model that starts with an {@link Embedding} reads token indices
 * {@code (T, B)}, any other reads features ({@link Builder#inputFeatures(int)}). Parameters have PyTorch's
 * {@code state_dict} names: the layer's name, a dot, the tensor's name ({@code embedding.weight},
 * {@code lstm.weight_ih_l0}, {@code head.weight}, {@code head.bias}).
 *
 * <pre>{@code
 * Sequential model = Sequential.builder().embedding(vocab, 16).lstm(64, 2).linear(vocab).build(backend, 42);
 * }</pre>
 *
 * <p><b>Training</b> runs on a {@link Workspace} ({@link #workspace(int, int)}): {@link #forward(Workspace)} from
 * {@link Workspace#inputs()} to {@link Workspace#outputs()}, keeping what {@link #backward(Workspace)} needs; the
 * caller (a {@link Loss}) writes {@link Workspace#outputGrads()}, and the backward writes (not accumulates) the
 * gradient of every parameter into the arena's gradient half, where an {@link Optimizer} and
 * {@link GradientClipping} find them. Each LSTM starts from the zero state unless {@link Workspace#carryState()}.
 *
 * <p><b>Inference and generation</b> run on a {@link State} ({@link #state(int)}): no training buffers, the recurrent
 * state kept on the device between calls, one step ({@link State#step(int[])}) or a whole sequence at a time.
 *
 * <p>Nothing in {@code forward}, {@code backward} or {@code step} waits for the device. Not thread-safe: one thread
 * drives a model and its backend at a time.
 */
public final class Sequential implements AutoCloseable {

    private enum Kind { EMBEDDING, LSTM, LINEAR }

    /** One layer as the builder describes it; {@code in} and {@code out} are its feature counts. */
    private record Spec(Kind kind, String name, int in, int out, int numLayers, double dropout) {
        long workspaceElements(int steps, int batch) {
            return kind == Kind.LSTM ? Lstm.workspaceElements(steps, batch, in, out, numLayers, dropout) : 0;
        }
    }

    /**
     * Describes a model layer by layer, then {@link #build}s it. The feature counts chain: each layer's input is the
     * previous layer's output. Names default to {@code embedding}, {@code lstm}, {@code linear} ({@code head} for a
     * {@link Linear} that is the last layer); a default name already taken gets the layer's position as a suffix
     * ({@code lstm_2}).
     */
    public static final class Builder {
        private final List<Spec> specs = new ArrayList<>();
        private final List<Boolean> named = new ArrayList<>();
        private int inputFeatures;
        private int features;

        private Builder() {
        }

        /**
         * Makes the model read features {@code (T, B, n)} rather than token indices; needed before a first layer that
         * is not an {@link Embedding}.
         *
         * @param n features per position, at least 1
         * @return this builder
         * @throws IllegalStateException when a layer was already added
         */
        public Builder inputFeatures(int n) {
            Checks.atLeastOne(n, "n");
            if (!specs.isEmpty()) {
                throw new IllegalStateException("inputFeatures must be set before the first layer");
            }
            inputFeatures = n;
            features = n;
            return this;
        }

        /**
         * Adds an {@link Embedding} named {@code embedding}; see {@link #embedding(String, int, int)}.
         *
         * @param vocab tokens, at least 1
         * @param dim   values per token, at least 1
         * @return this builder
         */
        public Builder embedding(int vocab, int dim) {
            return add(null, Kind.EMBEDDING, vocab, dim, 0, 0);
        }

        /**
         * Adds an {@link Embedding}: the model then reads token indices {@code (T, B)} in {@code [0, vocab)}. Only as
         * the first layer.
         *
         * @param name  the layer's name, the prefix of its tensors
         * @param vocab tokens, at least 1
         * @param dim   values per token, at least 1
         * @return this builder
         * @throws IllegalStateException when it is not the first layer or {@link #inputFeatures} was set
         */
        public Builder embedding(String name, int vocab, int dim) {
            return add(checkName(name), Kind.EMBEDDING, vocab, dim, 0, 0);
        }

        /**
         * Adds an {@link Lstm} named {@code lstm} without dropout.
         *
         * @param hidden    hidden units, at least 1
         * @param numLayers stacked layers, at least 1
         * @return this builder
         */
        public Builder lstm(int hidden, int numLayers) {
            return add(null, Kind.LSTM, 0, hidden, numLayers, 0);
        }

        /**
         * Adds an {@link Lstm} named {@code lstm}.
         *
         * @param hidden    hidden units, at least 1
         * @param numLayers stacked layers, at least 1
         * @param dropout   dropout between its layers in training, in {@code [0, 1)}
         * @return this builder
         */
        public Builder lstm(int hidden, int numLayers, double dropout) {
            return add(null, Kind.LSTM, 0, hidden, numLayers, dropout);
        }

        /**
         * Adds an {@link Lstm}, reading the previous layer's output.
         *
         * @param name      the layer's name, the prefix of its tensors
         * @param hidden    hidden units, at least 1
         * @param numLayers stacked layers, at least 1
         * @param dropout   dropout between its layers in training, in {@code [0, 1)}
         * @return this builder
         */
        public Builder lstm(String name, int hidden, int numLayers, double dropout) {
            return add(checkName(name), Kind.LSTM, 0, hidden, numLayers, dropout);
        }

        /**
         * Adds a {@link Linear} named {@code head} when it stays the last layer, else {@code linear}.
         *
         * @param outFeatures output features, at least 1
         * @return this builder
         */
        public Builder linear(int outFeatures) {
            return add(null, Kind.LINEAR, 0, outFeatures, 0, 0);
        }

        /**
         * Adds a {@link Linear}, reading the previous layer's output.
         *
         * @param name        the layer's name, the prefix of its tensors
         * @param outFeatures output features, at least 1
         * @return this builder
         */
        public Builder linear(String name, int outFeatures) {
            return add(checkName(name), Kind.LINEAR, 0, outFeatures, 0, 0);
        }

        private static String checkName(String name) {
            if (name == null || name.isEmpty() || name.contains(".")) {
                throw new IllegalArgumentException("name must be a non-empty name without '.', got "
                        + (name == null ? "null" : "'" + name + "'"));
            }
            return name;
        }

        private Builder add(String name, Kind kind, int in, int out, int numLayers, double dropout) {
            Checks.atLeastOne(out, kind == Kind.EMBEDDING ? "dim" : kind == Kind.LSTM ? "hidden" : "outFeatures");
            if (kind == Kind.EMBEDDING) {
                Checks.atLeastOne(in, "vocab");
                if (!specs.isEmpty() || inputFeatures > 0) {
                    throw new IllegalStateException("an embedding can only be the first layer of a model that reads "
                            + "tokens (no inputFeatures)");
                }
            } else {
                if (specs.isEmpty() && inputFeatures == 0) {
                    throw new IllegalStateException("the first layer must be an embedding, or call inputFeatures(n) "
                            + "first for a model that reads features");
                }
                in = features;
            }
            if (kind == Kind.LSTM) {
                Checks.atLeastOne(numLayers, "numLayers");
                if (!(dropout >= 0 && dropout < 1)) {
                    throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
                }
                Lstm.parameterCount(in, out, numLayers); // checks the sizes
            }
            for (Spec s : specs) {
                if (name != null && name.equals(s.name())) {
                    throw new IllegalArgumentException("a layer named '" + name + "' is already in the model");
                }
            }
            specs.add(new Spec(kind, name, in, out, numLayers, dropout));
            named.add(name != null);
            features = out;
            return this;
        }

        /** The layers with their names resolved. */
        private List<Spec> resolved() {
            if (specs.isEmpty()) {
                throw new IllegalStateException("the model has no layers");
            }
            List<Spec> out = new ArrayList<>();
            Set<String> taken = new HashSet<>();
            for (int i = 0; i < specs.size(); i++) {
                if (named.get(i)) {
                    taken.add(specs.get(i).name());
                }
            }
            for (int i = 0; i < specs.size(); i++) {
                Spec s = specs.get(i);
                String name = s.name();
                if (!named.get(i)) {
                    name = switch (s.kind()) {
                        case EMBEDDING -> "embedding";
                        case LSTM -> "lstm";
                        case LINEAR -> i == specs.size() - 1 ? "head" : "linear";
                    };
                    if (taken.contains(name)) {
                        name = name + "_" + i;
                    }
                    if (taken.contains(name)) {
                        throw new IllegalArgumentException("cannot name layer " + i + ": '" + name + "' is taken");
                    }
                    taken.add(name);
                }
                out.add(new Spec(s.kind(), name, s.in(), s.out(), s.numLayers(), s.dropout()));
            }
            return out;
        }

        /** @return the number of parameters of the model described so far (the arena holds as many gradients) */
        public long parameterCount() {
            long n = 0;
            for (Spec s : resolved()) {
                n += switch (s.kind()) {
                    case EMBEDDING -> Embedding.parameterCount(s.in(), s.out());
                    case LSTM -> Lstm.parameterCount(s.in(), s.out(), s.numLayers());
                    case LINEAR -> Linear.parameterCount(s.in(), s.out());
                };
            }
            return n;
        }

        /**
         * Elements a {@link Workspace} of the model allocates for {@code batch} sequences of {@code steps} steps
         * (times the precision's bytes): each {@link Lstm}'s workspace, the model's input when the first layer is
         * not an LSTM ({@code T B} tokens or {@code T B X} features), and the output and its gradient of every other
         * layer not followed by an LSTM ({@code 2 T B out}), whose buffers they share otherwise.
         *
         * @param steps sequence length {@code T}, at least 1
         * @param batch sequences {@code B}, at least 1
         * @return the element count
         */
        public long workspaceElements(int steps, int batch) {
            Checks.atLeastOne(steps, "steps");
            Checks.atLeastOne(batch, "batch");
            List<Spec> layers = resolved();
            long tb = (long) steps * batch;
            long n = 0;
            for (int i = 0; i < layers.size(); i++) {
                Spec s = layers.get(i);
                if (s.kind() == Kind.LSTM) {
                    n += s.workspaceElements(steps, batch);
                    continue;
                }
                if (i == 0) {
                    n += tb * (s.kind() == Kind.EMBEDDING ? 1 : s.in());
                }
                if (i + 1 == layers.size() || layers.get(i + 1).kind() != Kind.LSTM) {
                    n += 2 * tb * s.out();
                }
            }
            return n;
        }

        /**
         * Elements a {@link State} of the model allocates for {@code batch} sequences: each {@link Lstm}'s state,
         * one step's input ({@code B} tokens or {@code B X} features) and the one-step output of every other layer.
         *
         * @param batch sequences {@code B}, at least 1
         * @return the element count
         */
        public long stateElements(int batch) {
            Checks.atLeastOne(batch, "batch");
            List<Spec> layers = resolved();
            long n = (long) batch * (layers.get(0).kind() == Kind.EMBEDDING ? 1 : layers.get(0).in());
            for (Spec s : layers) {
                n += s.kind() == Kind.LSTM ? Lstm.stateElements(batch, s.out(), s.numLayers()) : (long) batch * s.out();
            }
            return n;
        }

        /**
         * Allocates the model's arena on {@code backend} and initialises every layer as PyTorch does (its own
         * distribution), from one {@link SplittableRandom} seeded with {@code seed}: each layer in order draws its
         * seed with {@code nextLong()}, then each LSTM its dropout seed.
         *
         * @param backend where the model lives
         * @param seed    seed of the initialisation and the dropout draws
         * @return the model; close it to release its arena
         */
        public Sequential build(Backend backend, long seed) {
            Checks.notNull(backend, "backend");
            return new Sequential(backend, resolved(), inputFeatures, seed);
        }
    }

    private final Backend backend;
    private final List<Spec> specs;
    private final Object[] layers;
    private final ParameterArena arena;
    private final boolean tokens;

    /** @return a new, empty builder */
    public static Builder builder() {
        return new Builder();
    }

    private Sequential(Backend backend, List<Spec> specs, int inputFeatures, long seed) {
        this.backend = backend;
        this.specs = List.copyOf(specs);
        this.tokens = specs.get(0).kind() == Kind.EMBEDDING;
        ParameterArena.Layout layout = new ParameterArena.Layout();
        for (Spec s : specs) {
            String prefix = s.name() + ".";
            switch (s.kind()) {
                case EMBEDDING -> Embedding.addParameters(layout, prefix, s.in(), s.out());
                case LSTM -> Lstm.addParameters(layout, prefix, s.in(), s.out(), s.numLayers());
                case LINEAR -> Linear.addParameters(layout, prefix, s.in(), s.out());
            }
        }
        this.arena = new ParameterArena(backend, layout);
        try {
            layers = new Object[specs.size()];
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = 0; i < specs.size(); i++) {
                Spec s = specs.get(i);
                String prefix = s.name() + ".";
                long layerSeed = rng.nextLong();
                switch (s.kind()) {
                    case EMBEDDING -> {
                        Embedding e = new Embedding(arena, prefix, s.in(), s.out());
                        e.initialize(layerSeed);
                        layers[i] = e;
                    }
                    case LSTM -> {
                        Lstm l = new Lstm(arena, prefix, s.in(), s.out(), s.numLayers(), s.dropout());
                        l.initialize(layerSeed);
                        layers[i] = l;
                    }
                    case LINEAR -> {
                        Linear l = new Linear(arena, prefix, s.in(), s.out());
                        l.initialize(layerSeed);
                        layers[i] = l;
                    }
                }
            }
            for (Object layer : layers) {
                if (layer instanceof Lstm l) {
                    l.setDropoutSeed(rng.nextLong());
                }
            }
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** @return the backend the model runs on */
    public Backend backend() {
        return backend;
    }

    /** @return the arena with every parameter and gradient, for an {@link Optimizer} and {@link GradientClipping} */
    public ParameterArena arena() {
        return arena;
    }

    /** @return the layers' names, in order */
    public List<String> layerNames() {
        List<String> out = new ArrayList<>();
        for (Spec s : specs) {
            out.add(s.name());
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The layer named {@code name}, for direct use (its parameters live in this model's arena; do not close it).
     *
     * @param name the layer's name
     * @param type its class: {@code Embedding.class}, {@code Lstm.class} or {@code Linear.class}
     * @param <T>  its type
     * @return the layer
     * @throws IllegalArgumentException when there is no such layer or it is of another type
     */
    public <T> T layer(String name, Class<T> type) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).name().equals(name)) {
                if (!type.isInstance(layers[i])) {
                    throw new IllegalArgumentException("layer '" + name + "' is a "
                            + layers[i].getClass().getSimpleName() + ", not a " + type.getSimpleName());
                }
                return type.cast(layers[i]);
            }
        }
        throw new IllegalArgumentException("the model has no layer named '" + name + "' (it has "
                + layerNames() + ")");
    }

    /** @return whether the model reads token indices (its first layer is an {@link Embedding}) */
    public boolean readsTokens() {
        return tokens;
    }

    /** @return features per input position: 1 (a token index) for a model that reads tokens */
    public int inputFeatures() {
        return tokens ? 1 : specs.get(0).in();
    }

    /** @return features per output position, the last layer's */
    public int outputFeatures() {
        return specs.get(specs.size() - 1).out();
    }

    /** @return the number of parameters */
    public int parameterCount() {
        return arena.size();
    }

    /** @return the parameter tensors in arena order, with their PyTorch {@code state_dict} names */
    public List<ParamTensor> parameterTensors() {
        return arena.tensors();
    }

    /**
     * Every parameter by name, as PyTorch's {@code state_dict()}: a tensor's values flattened row-major. Waits for
     * the device.
     *
     * @return a new map in arena order
     */
    public Map<String, double[]> stateDict() {
        double[] all = arena.downloadParams();
        Map<String, double[]> out = new LinkedHashMap<>();
        for (ParamTensor t : arena.tensors()) {
            double[] v = new double[t.size()];
            System.arraycopy(all, t.offset(), v, 0, v.length);
            out.put(t.name(), v);
        }
        return out;
    }

    /**
     * Overwrites every parameter from a {@link #stateDict()}-shaped map (PyTorch's names, row-major values).
     *
     * @param values exactly this model's tensors, each with its size
     * @throws IllegalArgumentException naming a missing, unknown or wrongly sized tensor
     */
    public void loadStateDict(Map<String, double[]> values) {
        Checks.notNull(values, "values");
        double[] all = new double[arena.size()];
        for (ParamTensor t : arena.tensors()) {
            double[] v = values.get(t.name());
            if (v == null) {
                throw new IllegalArgumentException("values lack '" + t.name() + "'");
            }
            if (v.length != t.size()) {
                throw new IllegalArgumentException(t.name() + " must hold " + t.size() + " values (" + t.rows()
                        + ", " + t.cols() + "), holds " + v.length);
            }
            System.arraycopy(v, 0, all, t.offset(), v.length);
        }
        for (String name : values.keySet()) {
            arena.tensor(name); // throws for a name the model does not have
        }
        arena.uploadParams(all);
    }

    /**
     * PyTorch's {@code train()} / {@code eval()}: whether {@link #forward(Workspace)} applies the LSTMs' dropout.
     *
     * @param training true for training (the default), false for evaluation
     */
    public void setTraining(boolean training) {
        for (Object layer : layers) {
            if (layer instanceof Lstm l) {
                l.setTraining(training);
            }
        }
    }

    /**
     * A training workspace for {@code batch} sequences of {@code steps} steps; see
     * {@link Builder#workspaceElements} for what it allocates.
     *
     * @param steps sequence length {@code T}, at least 1
     * @param batch sequences {@code B}, at least 1
     * @return the workspace; close it to release its buffers
     */
    public Workspace workspace(int steps, int batch) {
        return new Workspace(steps, batch);
    }

    /**
     * An inference state for {@code batch} sequences, zero; see {@link Builder#stateElements} for what it allocates.
     *
     * @param batch sequences {@code B}, at least 1
     * @return the state; close it to release its buffers
     */
    public State state(int batch) {
        return new State(batch);
    }

    /**
     * The training forward: every layer in order, from {@link Workspace#inputs()} to {@link Workspace#outputs()},
     * keeping what {@link #backward(Workspace)} needs.
     *
     * @param ws a workspace of this model
     */
    public void forward(Workspace ws) {
        checkOwn(ws);
        for (int i = 0; i < layers.length; i++) {
            if (ws.copyIn[i]) {
                copy(ws.out[i - 1], ws.in[i]);
            }
            switch (specs.get(i).kind()) {
                case EMBEDDING -> ((Embedding) layers[i]).forward(ws.in[i], ws.out[i]);
                case LSTM -> ((Lstm) layers[i]).forward(ws.lstm[i]);
                case LINEAR -> ((Linear) layers[i]).forward(ws.in[i], ws.out[i]);
            }
        }
    }

    /**
     * The backward pass after {@link #forward(Workspace)}: from {@link Workspace#outputGrads()}, which the caller
     * writes (for example with {@link Loss#backward}), writes (not accumulates) the gradient of every parameter into
     * the arena's gradient half. The gradient of the model's inputs is not computed.
     *
     * @param ws a workspace of this model, after {@link #forward(Workspace)}
     */
    public void backward(Workspace ws) {
        checkOwn(ws);
        for (int i = layers.length - 1; i >= 0; i--) {
            switch (specs.get(i).kind()) {
                case EMBEDDING -> ((Embedding) layers[i]).backward(ws.in[i], ws.dOut[i], false);
                case LSTM -> ((Lstm) layers[i]).backward(ws.lstm[i], i > 0);
                case LINEAR -> ((Linear) layers[i]).backward(ws.in[i], ws.dOut[i], i > 0 ? ws.dIn[i] : null);
            }
            if (ws.copyIn[i]) {
                copy(ws.dIn[i], ws.dOut[i - 1]);
            }
        }
    }

    /** Uploads token indices after checking each is below the embedding's vocabulary. */
    private void uploadTokens(int[] values, Buffer dst) {
        Checks.notNull(values, "tokens");
        int vocab = specs.get(0).in();
        for (int i = 0; i < values.length; i++) {
            if (values[i] >= vocab) {
                throw new IllegalArgumentException("tokens[" + i + "] = " + values[i] + " is not below the vocabulary "
                        + "size " + vocab);
            }
        }
        Checks.uploadIndices(backend, values, dst, "tokens");
    }

    private void copy(Buffer src, Buffer dst) {
        backend.copyMatrix(1, src.length(), src, src.length(), dst, dst.length());
    }

    private void checkOwn(Workspace ws) {
        Checks.notNull(ws, "ws");
        if (ws.owner() != this) {
            throw new IllegalArgumentException("ws belongs to another model");
        }
    }

    /** Releases the arena; the model's workspaces and states should be closed first. Idempotent. */
    @Override
    public void close() {
        arena.close();
    }

    /**
     * The activations of {@code B} sequences of {@code T} steps through every layer, for training. The caller writes
     * the inputs ({@link #setTokens}, {@link #setInputs(double[])} or {@link #inputs()} directly) and, before the
     * backward, {@link #outputGrads()}. Buffers are shared between neighbouring layers where they can be.
     */
    public final class Workspace implements AutoCloseable {
        private final int steps;
        private final int batch;
        private final Buffer[] in;
        private final Buffer[] out;
        private final Buffer[] dIn;
        private final Buffer[] dOut;
        private final boolean[] copyIn;
        private final Lstm.Workspace[] lstm;
        private final List<AutoCloseable> owned = new ArrayList<>();

        private Workspace(int steps, int batch) {
            this.steps = Checks.atLeastOne(steps, "steps");
            this.batch = Checks.atLeastOne(batch, "batch");
            int n = layers.length;
            int tb = Math.multiplyExact(steps, batch);
            in = new Buffer[n];
            out = new Buffer[n];
            dIn = new Buffer[n];
            dOut = new Buffer[n];
            copyIn = new boolean[n];
            lstm = new Lstm.Workspace[n];
            try {
                for (int i = 0; i < n; i++) {
                    if (layers[i] instanceof Lstm l) {
                        lstm[i] = l.workspace(steps, batch);
                        owned.add(lstm[i]);
                        in[i] = lstm[i].inputs();
                        out[i] = lstm[i].outputs();
                        dIn[i] = lstm[i].inputGrads();
                        dOut[i] = lstm[i].outputGrads();
                    }
                }
                for (int i = 0; i < n; i++) {
                    Spec s = specs.get(i);
                    boolean nextLstm = i + 1 < n && specs.get(i + 1).kind() == Kind.LSTM;
                    if (s.kind() == Kind.LSTM) {
                        copyIn[i] = i > 0 && specs.get(i - 1).kind() == Kind.LSTM;
                        continue;
                    }
                    in[i] = i == 0 ? alloc(Math.multiplyExact(tb, tokens ? 1 : s.in())) : out[i - 1];
                    dIn[i] = i == 0 ? null : dOut[i - 1];
                    out[i] = nextLstm ? in[i + 1] : alloc(Math.multiplyExact(tb, s.out()));
                    dOut[i] = nextLstm ? dIn[i + 1] : alloc(Math.multiplyExact(tb, s.out()));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private Buffer alloc(int length) {
            Buffer b = backend.allocate(length);
            owned.add(b);
            return b;
        }

        private Sequential owner() {
            return Sequential.this;
        }

        /** @return the sequence length {@code T} */
        public int steps() {
            return steps;
        }

        /** @return the number of sequences {@code B} */
        public int batch() {
            return batch;
        }

        /** @return the inputs, {@code (T, B)} token indices as exact values or {@code (T, B, features)} */
        public Buffer inputs() {
            return in[0];
        }

        /** @return the outputs {@code (T, B, outputFeatures)} of the last forward */
        public Buffer outputs() {
            return out[layers.length - 1];
        }

        /** @return {@code dL/d outputs (T, B, outputFeatures)}, which the caller writes before the backward */
        public Buffer outputGrads() {
            return dOut[layers.length - 1];
        }

        /**
         * Uploads token indices.
         *
         * @param values {@code (T, B)} indices in {@code [0, vocab)}, time-major ({@code values[t * B + b]})
         * @throws IllegalStateException    when the model reads features
         * @throws IllegalArgumentException when there are not {@code T * B} of them, or naming the first bad one
         */
        public void setTokens(int[] values) {
            if (!tokens) {
                throw new IllegalStateException("the model reads features, not tokens: use setInputs");
            }
            uploadTokens(values, in[0]);
        }

        /**
         * Uploads input features.
         *
         * @param values {@code (T, B, features)}, time-major
         * @throws IllegalStateException when the model reads tokens
         */
        public void setInputs(double[] values) {
            if (tokens) {
                throw new IllegalStateException("the model reads tokens: use setTokens");
            }
            Checks.upload(backend, values, in[0], "inputs");
        }

        /**
         * Uploads input features.
         *
         * @param values {@code (T, B, features)}, time-major
         * @throws IllegalStateException when the model reads tokens
         */
        public void setInputs(float[] values) {
            if (tokens) {
                throw new IllegalStateException("the model reads tokens: use setTokens");
            }
            Checks.upload(backend, values, in[0], "inputs");
        }

        /** @return the outputs of the last forward; waits for the device */
        public double[] downloadOutputs() {
            return backend.download(outputs());
        }

        /**
         * Makes every LSTM start the next forwards from the final state of the last one, copied on the device:
         * consecutive chunks of long sequences (truncated backpropagation through time).
         */
        public void carryState() {
            for (Lstm.Workspace w : lstm) {
                if (w != null) {
                    w.carryFinalState();
                }
            }
        }

        /** Makes every LSTM start the next forwards from the zero state (the default). */
        public void resetState() {
            for (Lstm.Workspace w : lstm) {
                if (w != null) {
                    w.setInitialStateGiven(false);
                }
            }
        }

        /**
         * The workspace of the LSTM named {@code name}: its initial and final states and their gradients.
         *
         * @param name the layer's name
         * @return its workspace (closed with this one)
         */
        public Lstm.Workspace lstm(String name) {
            for (int i = 0; i < specs.size(); i++) {
                if (specs.get(i).name().equals(name) && lstm[i] != null) {
                    return lstm[i];
                }
            }
            throw new IllegalArgumentException("the model has no LSTM named '" + name + "'");
        }

        /** Releases the workspace's buffers. Idempotent. */
        @Override
        public void close() {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /**
     * The recurrent state of {@code B} sequences through the model, for inference and generation: each LSTM's state
     * on the device and one step's activations, no training buffers. Zero when made.
     */
    public final class State implements AutoCloseable {
        private final int batch;
        private final Buffer input;      // (B) tokens or (B, X) features
        private final Buffer[] out;      // per layer (B, out): own buffers, or an LSTM state's output view
        private final Lstm.State[] lstm;
        private final List<AutoCloseable> owned = new ArrayList<>();

        private State(int batch) {
            this.batch = Checks.atLeastOne(batch, "batch");
            int n = layers.length;
            out = new Buffer[n];
            lstm = new Lstm.State[n];
            try {
                input = alloc(Math.multiplyExact(batch, inputFeatures()));
                for (int i = 0; i < n; i++) {
                    if (layers[i] instanceof Lstm l) {
                        lstm[i] = l.state(batch);
                        owned.add(lstm[i]);
                        out[i] = lstm[i].output();
                    } else {
                        out[i] = alloc(Math.multiplyExact(batch, specs.get(i).out()));
                    }
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private Buffer alloc(int length) {
            Buffer b = backend.allocate(length);
            owned.add(b);
            return b;
        }

        /** @return the number of sequences {@code B} */
        public int batch() {
            return batch;
        }

        /** @return one step's input, {@code (B)} token indices or {@code (B, features)}, for {@link #step()} */
        public Buffer input() {
            return input;
        }

        /** @return the last step's output {@code (B, outputFeatures)} (a view; valid until the next step) */
        public Buffer output() {
            return out[layers.length - 1];
        }

        /** @return the last step's output; waits for the device */
        public double[] downloadOutput() {
            return backend.download(output());
        }

        /** One step from {@link #input()} as the caller wrote it; the new output is {@link #output()}. */
        public void step() {
            stepFrom(input);
        }

        /**
         * Uploads one token per sequence and steps.
         *
         * @param tokensNow {@code B} token indices
         */
        public void step(int[] tokensNow) {
            if (!tokens) {
                throw new IllegalStateException("the model reads features, not tokens");
            }
            uploadTokens(tokensNow, input);
            stepFrom(input);
        }

        /**
         * Uploads one step's features and steps.
         *
         * @param features {@code (B, features)}
         */
        public void step(double[] features) {
            if (tokens) {
                throw new IllegalStateException("the model reads tokens, not features");
            }
            Checks.upload(backend, features, input, "features");
            stepFrom(input);
        }

        private void stepFrom(Buffer x) {
            for (int i = 0; i < layers.length; i++) {
                Buffer prev = i == 0 ? x : out[i - 1];
                switch (specs.get(i).kind()) {
                    case EMBEDDING -> ((Embedding) layers[i]).forward(prev, out[i]);
                    case LSTM -> ((Lstm) layers[i]).step(lstm[i], prev);
                    case LINEAR -> ((Linear) layers[i]).forward(prev, out[i]);
                }
            }
        }

        /**
         * A whole sequence, step by step from the current state, leaving the final state here: reads
         * {@code inputs (T, B, inputFeatures)} (token indices as exact values for a model that reads tokens) and
         * writes {@code outputs (T, B, outputFeatures)}. Allocates nothing.
         *
         * @param inputs  {@code T * B * inputFeatures} values, {@code T >= 1}
         * @param outputs {@code T * B * outputFeatures} values
         */
        public void forward(Buffer inputs, Buffer outputs) {
            int per = batch * inputFeatures();
            int steps = Checks.rows(backend, inputs, "inputs", per);
            int bo = batch * outputFeatures();
            Checks.buffer(backend, outputs, "outputs", (long) steps * bo, "(T, B, outputFeatures)");
            for (int t = 0; t < steps; t++) {
                stepFrom(inputs.slice(t * per, per));
                backend.copyMatrix(1, bo, output(), bo, outputs.slice(t * bo, bo), bo);
            }
        }

        /**
         * A whole sequence of tokens from the current state (see {@link #forward(Buffer, Buffer)}); allocates its
         * input and output on the device for the call and waits for the result.
         *
         * @param tokensSeq {@code (T, B)} token indices, time-major
         * @return the outputs {@code (T, B, outputFeatures)}
         */
        public double[] forward(int[] tokensSeq) {
            if (!tokens) {
                throw new IllegalStateException("the model reads features, not tokens");
            }
            Checks.notNull(tokensSeq, "tokens");
            if (tokensSeq.length == 0 || tokensSeq.length % batch != 0) {
                throw new IllegalArgumentException("tokens must hold T * " + batch + " indices (T >= 1), holds "
                        + tokensSeq.length);
            }
            try (Buffer x = backend.allocate(tokensSeq.length);
                 Buffer y = backend.allocate(Math.multiplyExact(tokensSeq.length, outputFeatures()))) {
                uploadTokens(tokensSeq, x);
                forward(x, y);
                return backend.download(y);
            }
        }

        /**
         * A whole sequence of features from the current state (see {@link #forward(Buffer, Buffer)}); allocates its
         * input and output on the device for the call and waits for the result.
         *
         * @param features {@code (T, B, inputFeatures)}, time-major
         * @return the outputs {@code (T, B, outputFeatures)}
         */
        public double[] forward(double[] features) {
            if (tokens) {
                throw new IllegalStateException("the model reads tokens, not features");
            }
            Checks.notNull(features, "features");
            int per = batch * inputFeatures();
            if (features.length == 0 || features.length % per != 0) {
                throw new IllegalArgumentException("features must hold T * " + per + " values (T >= 1), holds "
                        + features.length);
            }
            int steps = features.length / per;
            try (Buffer x = backend.allocate(features.length);
                 Buffer y = backend.allocate(Math.multiplyExact(steps, batch * outputFeatures()))) {
                backend.upload(features, x);
                forward(x, y);
                return backend.download(y);
            }
        }

        /** Sets every LSTM's state to zero. */
        public void reset() {
            for (Lstm.State s : lstm) {
                if (s != null) {
                    s.reset();
                }
            }
        }

        /**
         * The state of the LSTM named {@code name}: its {@code (h, c)}.
         *
         * @param name the layer's name
         * @return its state (closed with this one)
         */
        public Lstm.State lstm(String name) {
            for (int i = 0; i < specs.size(); i++) {
                if (specs.get(i).name().equals(name) && lstm[i] != null) {
                    return lstm[i];
                }
            }
            throw new IllegalArgumentException("the model has no LSTM named '" + name + "'");
        }

        /** Releases the state's buffers. Idempotent. */
        @Override
        public void close() {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}

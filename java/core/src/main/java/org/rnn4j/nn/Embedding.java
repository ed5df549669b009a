package org.rnn4j.nn;

import java.util.List;
import java.util.SplittableRandom;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.net.ParamTensor;

/**
 * A lookup table of {@code vocab} vectors of {@code dim} values: PyTorch's {@code nn.Embedding(vocab, dim)} (no
 * padding index, no max norm). Its one parameter, {@code weight (vocab, dim)} behind the caller's prefix (PyTorch's
 * {@code state_dict} name), lives in a {@link ParameterArena}: the layer's own ({@link #create}) or one shared with
 * other layers ({@link #addParameters}, then {@link #Embedding(ParameterArena, String, int, int)}). Indices travel as
 * their exact values in buffers of the backend's precision ({@link Backend#uploadIndices}).
 *
 * <p>{@link #initialize(long)} draws every weight from {@code N(0, 1)}, PyTorch's default (the same distribution from
 * {@link SplittableRandom}, not PyTorch's numbers). Not thread-safe: one thread drives a layer and its backend.
 */
public final class Embedding implements AutoCloseable {

    private final Backend backend;
    private final ParameterArena arena;
    private final boolean ownsArena;
    private final String prefix;
    private final int vocab;
    private final int dim;
    private final Buffer weight;
    private final Buffer weightGrad;

    /**
     * Adds {@code prefix + "weight"} {@code (vocab, dim)} to {@code layout}.
     *
     * @param layout the layout to extend
     * @param prefix put before the name ({@code "embedding."} gives {@code embedding.weight}); may be empty
     * @param vocab  rows of the table, at least 1 (at most {@link Backend#MAX_INDEX_RANGE_FLOAT32} in float32)
     * @param dim    values per row, at least 1
     * @return {@code layout}
     * @throws IllegalArgumentException when an argument is out of range or the name is taken
     */
    public static ParameterArena.Layout addParameters(ParameterArena.Layout layout, String prefix, int vocab,
                                                      int dim) {
        Checks.notNull(layout, "layout");
        Checks.notNull(prefix, "prefix");
        checkSizes(vocab, dim);
        return layout.add(prefix + "weight", vocab, dim);
    }

    /**
     * @param vocab rows of the table
     * @param dim   values per row
     * @return {@code vocab * dim}
     */
    public static long parameterCount(int vocab, int dim) {
        checkSizes(vocab, dim);
        return (long) vocab * dim;
    }

    /**
     * A table with an arena of its own, initialised by {@link #initialize(long)}.
     *
     * @param backend where it lives
     * @param vocab   rows, at least 1
     * @param dim     values per row, at least 1
     * @param seed    seed of the initialisation
     * @return the layer; {@link #close()} releases its arena
     */
    public static Embedding create(Backend backend, int vocab, int dim, long seed) {
        Checks.notNull(backend, "backend");
        ParameterArena arena = new ParameterArena(backend, addParameters(new ParameterArena.Layout(), "", vocab, dim));
        Embedding e = new Embedding(arena, "", vocab, dim, true);
        e.initialize(seed);
        return e;
    }

    /**
     * A table over the tensor {@link #addParameters} put into {@code arena}'s layout under {@code prefix}; the arena
     * stays the caller's. The weights are whatever the arena holds: call {@link #initialize(long)} or upload them.
     *
     * @param arena  the arena
     * @param prefix the prefix given to {@link #addParameters}
     * @param vocab  rows, at least 1
     * @param dim    values per row, at least 1
     * @throws IllegalArgumentException when an argument is out of range, or the arena lacks the tensor or holds it
     *                                  in another shape
     */
    public Embedding(ParameterArena arena, String prefix, int vocab, int dim) {
        this(arena, prefix, vocab, dim, false);
    }

    private Embedding(ParameterArena arena, String prefix, int vocab, int dim, boolean ownsArena) {
        Checks.notNull(arena, "arena");
        Checks.notNull(prefix, "prefix");
        checkSizes(vocab, dim);
        if (arena.backend().precision() == Precision.FLOAT32 && vocab > Backend.MAX_INDEX_RANGE_FLOAT32) {
            throw new IllegalArgumentException("vocab " + vocab + " is above " + Backend.MAX_INDEX_RANGE_FLOAT32
                    + ", the largest float32 indexes exactly; use float64");
        }
        this.backend = arena.backend();
        this.arena = arena;
        this.ownsArena = ownsArena;
        this.prefix = prefix;
        this.vocab = vocab;
        this.dim = dim;
        this.weight = Checks.view(arena, prefix + "weight", vocab, dim, false);
        this.weightGrad = Checks.view(arena, prefix + "weight", vocab, dim, true);
    }

    private static void checkSizes(int vocab, int dim) {
        Checks.atLeastOne(vocab, "vocab");
        Checks.atLeastOne(dim, "dim");
    }

    /** @return rows of the table */
    public int vocab() {
        return vocab;
    }

    /** @return values per row */
    public int dim() {
        return dim;
    }

    /** @return the backend the layer runs on */
    public Backend backend() {
        return backend;
    }

    /** @return the arena holding the weights and their gradient */
    public ParameterArena arena() {
        return arena;
    }

    /** @return the weights {@code (vocab, dim)}, a view into the arena */
    public Buffer weight() {
        return weight;
    }

    /** @return the gradient of the weights, a view into the arena's gradient half */
    public Buffer weightGrad() {
        return weightGrad;
    }

    /** @return this layer's one tensor, {@code prefix + "weight"} */
    public List<ParamTensor> parameterTensors() {
        return List.of(arena.tensor(prefix + "weight"));
    }

    /**
     * PyTorch's initialisation: every weight {@code N(0, 1)}, row by row, from
     * {@code new SplittableRandom(seed).nextGaussian()}.
     *
     * @param seed the generator's seed
     */
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] values = new double[weight.length()];
        for (int i = 0; i < values.length; i++) {
            values[i] = rng.nextGaussian();
        }
        backend.upload(values, weight);
    }

    /**
     * The lookup: {@code out[i, :] = weight[indices[i], :]}.
     *
     * @param indices {@code n} indices in {@code [0, vocab)}, as exact values ({@link Backend#uploadIndices})
     * @param out     {@code (n, dim)}
     */
    public void forward(Buffer indices, Buffer out) {
        int n = Checks.rows(backend, indices, "indices", 1);
        Checks.buffer(backend, out, "out", (long) n * dim, "(n, dim)");
        backend.embeddingForward(vocab, dim, weight, indices, out);
    }

    /**
     * The gradient of the weights, {@link #weightGrad()}: each row of {@code outputGrads} added into the row its
     * index selected; the rows no index selects are zero, or as they were when {@code accumulate}.
     *
     * @param indices     the indices of the forward
     * @param outputGrads {@code dL/d out (n, dim)}
     * @param accumulate  add to the gradient already there instead of overwriting it
     */
    public void backward(Buffer indices, Buffer outputGrads, boolean accumulate) {
        int n = Checks.rows(backend, indices, "indices", 1);
        Checks.buffer(backend, outputGrads, "outputGrads", (long) n * dim, "(n, dim)");
        backend.embeddingBackward(vocab, dim, indices, outputGrads, weightGrad, accumulate);
    }

    /** Releases the arena when the layer made it ({@link #create}); an arena given by the caller stays open. */
    @Override
    public void close() {
        if (ownsArena) {
            arena.close();
        }
    }
}

package org.rnn4j.nn;

import java.util.List;
import java.util.SplittableRandom;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.net.ParamTensor;

/**
 * An affine map over rows, PyTorch's {@code nn.Linear(in, out)}: {@code y = x W^T + b} for {@code x (rows, in)},
 * {@code y (rows, out)}; a sequence {@code (T, B, in)} is {@code T * B} rows. Its parameters are
 * {@code weight (out, in)} and {@code bias (out)} (stored {@code (1, out)}) behind the caller's prefix, PyTorch's
 * {@code state_dict} names, in a {@link ParameterArena}: the layer's own ({@link #create}) or one shared with other
 * layers ({@link #addParameters}, then {@link #Linear(ParameterArena, String, int, int)}).
 *
 * <p>{@link #initialize(long)} draws the weight and the bias uniform in {@code [-1/sqrt(in), 1/sqrt(in))}, PyTorch's
 * default ({@code kaiming_uniform_(a=sqrt(5))} gives that bound for the weight; the bias uses it explicitly). Forward
 * is one GEMM and one bias-add; backward two GEMMs and one column sum. Not thread-safe: one thread drives a layer and
 * its backend.
 */
public final class Linear implements AutoCloseable {

    private final Backend backend;
    private final ParameterArena arena;
    private final boolean ownsArena;
    private final String prefix;
    private final int in;
    private final int out;
    private final Buffer weight;
    private final Buffer bias;
    private final Buffer weightGrad;
    private final Buffer biasGrad;

    /**
     * Adds {@code prefix + "weight"} {@code (out, in)} and {@code prefix + "bias"} {@code (1, out)} to
     * {@code layout}.
     *
     * @param layout      the layout to extend
     * @param prefix      put before the names ({@code "head."} gives {@code head.weight}); may be empty
     * @param inFeatures  columns of the input, at least 1
     * @param outFeatures columns of the output, at least 1
     * @return {@code layout}
     * @throws IllegalArgumentException when an argument is out of range or a name is taken
     */
    public static ParameterArena.Layout addParameters(ParameterArena.Layout layout, String prefix, int inFeatures,
                                                      int outFeatures) {
        Checks.notNull(layout, "layout");
        Checks.notNull(prefix, "prefix");
        checkSizes(inFeatures, outFeatures);
        layout.add(prefix + "weight", outFeatures, inFeatures);
        return layout.add(prefix + "bias", 1, outFeatures);
    }

    /**
     * @param inFeatures  columns of the input
     * @param outFeatures columns of the output
     * @return {@code out * in + out}
     */
    public static long parameterCount(int inFeatures, int outFeatures) {
        checkSizes(inFeatures, outFeatures);
        return (long) outFeatures * inFeatures + outFeatures;
    }

    /**
     * A layer with an arena of its own, initialised by {@link #initialize(long)}.
     *
     * @param backend     where it lives
     * @param inFeatures  columns of the input, at least 1
     * @param outFeatures columns of the output, at least 1
     * @param seed        seed of the initialisation
     * @return the layer; {@link #close()} releases its arena
     */
    public static Linear create(Backend backend, int inFeatures, int outFeatures, long seed) {
        Checks.notNull(backend, "backend");
        ParameterArena arena = new ParameterArena(backend,
                addParameters(new ParameterArena.Layout(), "", inFeatures, outFeatures));
        Linear l = new Linear(arena, "", inFeatures, outFeatures, true);
        l.initialize(seed);
        return l;
    }

    /**
     * A layer over the tensors {@link #addParameters} put into {@code arena}'s layout under {@code prefix}; the arena
     * stays the caller's. The parameters are whatever the arena holds: call {@link #initialize(long)} or upload them.
     *
     * @param arena       the arena
     * @param prefix      the prefix given to {@link #addParameters}
     * @param inFeatures  columns of the input, at least 1
     * @param outFeatures columns of the output, at least 1
     * @throws IllegalArgumentException when an argument is out of range, or the arena lacks a tensor or holds one in
     *                                  another shape
     */
    public Linear(ParameterArena arena, String prefix, int inFeatures, int outFeatures) {
        this(arena, prefix, inFeatures, outFeatures, false);
    }

    private Linear(ParameterArena arena, String prefix, int inFeatures, int outFeatures, boolean ownsArena) {
        Checks.notNull(arena, "arena");
        Checks.notNull(prefix, "prefix");
        checkSizes(inFeatures, outFeatures);
        this.backend = arena.backend();
        this.arena = arena;
        this.ownsArena = ownsArena;
        this.prefix = prefix;
        this.in = inFeatures;
        this.out = outFeatures;
        this.weight = Checks.view(arena, prefix + "weight", out, in, false);
        this.bias = Checks.view(arena, prefix + "bias", 1, out, false);
        this.weightGrad = Checks.view(arena, prefix + "weight", out, in, true);
        this.biasGrad = Checks.view(arena, prefix + "bias", 1, out, true);
    }

    private static void checkSizes(int inFeatures, int outFeatures) {
        Checks.atLeastOne(inFeatures, "inFeatures");
        Checks.atLeastOne(outFeatures, "outFeatures");
        if ((long) inFeatures * outFeatures + outFeatures > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("a Linear(" + inFeatures + ", " + outFeatures + ") is too large for "
                    + "one arena");
        }
    }

    /** @return columns of the input */
    public int inFeatures() {
        return in;
    }

    /** @return columns of the output */
    public int outFeatures() {
        return out;
    }

    /** @return the backend the layer runs on */
    public Backend backend() {
        return backend;
    }

    /** @return the arena holding the parameters and their gradients */
    public ParameterArena arena() {
        return arena;
    }

    /** @return {@code weight (out, in)}, a view into the arena */
    public Buffer weight() {
        return weight;
    }

    /** @return {@code bias (out)}, a view into the arena */
    public Buffer bias() {
        return bias;
    }

    /** @return the gradient of the weight, a view into the arena's gradient half */
    public Buffer weightGrad() {
        return weightGrad;
    }

    /** @return the gradient of the bias, a view into the arena's gradient half */
    public Buffer biasGrad() {
        return biasGrad;
    }

    /** @return this layer's tensors, {@code weight} then {@code bias} (PyTorch's order) */
    public List<ParamTensor> parameterTensors() {
        return List.of(arena.tensor(prefix + "weight"), arena.tensor(prefix + "bias"));
    }

    /**
     * PyTorch's initialisation: the weight, then the bias, uniform in {@code [-k, k)} with {@code k = 1/sqrt(in)},
     * each value {@code -k + 2k * u} with {@code u} from {@code new SplittableRandom(seed).nextDouble()}.
     *
     * @param seed the generator's seed
     */
    public void initialize(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double k = 1 / Math.sqrt(in);
        for (Buffer b : new Buffer[] {weight, bias}) {
            double[] values = new double[b.length()];
            for (int i = 0; i < values.length; i++) {
                values[i] = -k + 2 * k * rng.nextDouble();
            }
            backend.upload(values, b);
        }
    }

    /**
     * {@code y = x W^T + b}.
     *
     * @param x {@code (rows, in)}, {@code rows >= 1}
     * @param y {@code (rows, out)}, disjoint from {@code x}
     */
    public void forward(Buffer x, Buffer y) {
        int rows = Checks.rows(backend, x, "x", in);
        Checks.buffer(backend, y, "y", (long) rows * out, "(rows, outFeatures)");
        backend.gemm(false, true, rows, out, in, 1, x, in, weight, in, 0, y, out);
        backend.biasAdd(rows, out, y, bias, y);
    }

    /**
     * Writes (not accumulates) the gradients of the weight, {@code dy^T x}, and of the bias, the column sums of
     * {@code dy}, into the arena, and, when {@code dx} is given, the gradient of the input, {@code dy W}.
     *
     * @param x  the input of the forward, {@code (rows, in)}
     * @param dy {@code dL/dy (rows, out)}
     * @param dx {@code dL/dx (rows, in)} to write, or null when not needed
     */
    public void backward(Buffer x, Buffer dy, Buffer dx) {
        int rows = Checks.rows(backend, x, "x", in);
        Checks.buffer(backend, dy, "dy", (long) rows * out, "(rows, outFeatures)");
        if (dx != null) {
            Checks.buffer(backend, dx, "dx", (long) rows * in, "(rows, inFeatures)");
        }
        backend.gemm(true, false, out, in, rows, 1, dy, out, x, in, 0, weightGrad, in);
        backend.sumRows(rows, out, dy, biasGrad, false);
        if (dx != null) {
            backend.gemm(false, false, rows, in, out, 1, dy, out, weight, in, 0, dx, in);
        }
    }

    /** Releases the arena when the layer made it ({@link #create}); an arena given by the caller stays open. */
    @Override
    public void close() {
        if (ownsArena) {
            arena.close();
        }
    }
}

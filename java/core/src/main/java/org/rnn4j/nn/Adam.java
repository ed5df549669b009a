package org.rnn4j.nn;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * Adam, PyTorch's {@code torch.optim.Adam(params, lr, betas, eps, weight_decay)} ({@code amsgrad=False}), over every
 * parameter of a {@link ParameterArena} at once ({@link Backend#adamUpdate}, whose Javadoc gives the arithmetic). The
 * moments ({@code exp_avg}, {@code exp_avg_sq}) and the step count live on the device; the state is zero when made,
 * as PyTorch's before its first step. Not thread-safe.
 */
public final class Adam implements Optimizer {

    private final ParameterArena arena;
    private final Backend backend;
    private final Buffer state; // [expAvg | expAvgSq | step]
    private final Buffer expAvg;
    private final Buffer expAvgSq;
    private final Buffer step;
    private double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    /**
     * PyTorch's defaults: betas {@code (0.9, 0.999)}, eps {@code 1e-8}, no weight decay.
     *
     * @param arena the parameters and gradients to update
     * @param lr    learning rate, finite and not negative
     */
    public Adam(ParameterArena arena, double lr) {
        this(arena, lr, 0.9, 0.999, 1e-8, 0);
    }

    /**
     * @param arena       the parameters and gradients to update
     * @param lr          learning rate, finite and not negative
     * @param beta1       decay of the first moment, in {@code [0, 1)}
     * @param beta2       decay of the second moment, in {@code [0, 1)}
     * @param eps         added to the denominator, finite and not negative
     * @param weightDecay L2 penalty added to the gradient ({@code g + weightDecay * p}), finite and not negative
     * @throws IllegalArgumentException naming the first bad argument
     */
    public Adam(ParameterArena arena, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this.arena = Checks.notNull(arena, "arena");
        checkRate(lr);
        beta(beta1, "beta1");
        beta(beta2, "beta2");
        nonNegative(eps, "eps");
        nonNegative(weightDecay, "weightDecay");
        this.backend = arena.backend();
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        int n = arena.size();
        this.state = backend.allocate(Math.addExact(Math.multiplyExact(2, n), 1));
        this.expAvg = state.slice(0, n);
        this.expAvgSq = state.slice(n, n);
        this.step = state.slice(2 * n, 1);
    }

    private static void checkRate(double lr) {
        nonNegative(lr, "lr");
    }

    static void nonNegative(double v, String name) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be finite and not negative, got " + v);
        }
    }

    private static void beta(double v, String name) {
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException(name + " must lie in [0, 1), got " + v);
        }
    }

    @Override
    public void step() {
        backend.adamUpdate(arena.params(), arena.grads(), expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay);
    }

    @Override
    public ParameterArena arena() {
        return arena;
    }

    @Override
    public long stepCount() {
        return (long) backend.download(step)[0];
    }

    /** @return the learning rate */
    public double learningRate() {
        return lr;
    }

    /**
     * Changes the learning rate for the following steps (a schedule); the moments are kept.
     *
     * @param lr finite and not negative
     */
    public void setLearningRate(double lr) {
        checkRate(lr);
        this.lr = lr;
    }

    /** @return the first moments, laid out as the arena's parameters (on the device) */
    public Buffer expAvg() {
        return expAvg;
    }

    /** @return the second moments, laid out as the arena's parameters (on the device) */
    public Buffer expAvgSq() {
        return expAvgSq;
    }

    /**
     * Overwrites the whole state, such as a checkpoint's, so that the next {@link #step()} continues a run exactly.
     *
     * @param expAvgValues   the first moments, laid out as the arena's parameters
     * @param expAvgSqValues the second moments, laid out as the arena's parameters, none negative
     * @param steps          the steps taken, at least 0
     * @throws IllegalArgumentException naming an array of the wrong length, a negative second moment or step count
     */
    public void load(double[] expAvgValues, double[] expAvgSqValues, long steps) {
        int n = arena.size();
        Checks.notNull(expAvgValues, "expAvgValues");
        Checks.notNull(expAvgSqValues, "expAvgSqValues");
        if (expAvgValues.length != n || expAvgSqValues.length != n) {
            throw new IllegalArgumentException("expAvgValues and expAvgSqValues must hold " + n + " values each, hold "
                    + expAvgValues.length + " and " + expAvgSqValues.length);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be at least 0, got " + steps);
        }
        double[] all = new double[state.length()];
        System.arraycopy(expAvgValues, 0, all, 0, n);
        for (int i = 0; i < n; i++) {
            if (!(expAvgSqValues[i] >= 0)) {
                throw new IllegalArgumentException("expAvgSqValues[" + i + "] must not be negative, got "
                        + expAvgSqValues[i]);
            }
        }
        System.arraycopy(expAvgSqValues, 0, all, n, n);
        all[2 * n] = steps;
        backend.upload(all, state);
    }

    /** Sets the moments and the step count back to zero, as a new optimizer. */
    public void reset() {
        backend.upload(new double[state.length()], state);
    }

    @Override
    public void close() {
        state.close();
    }
}

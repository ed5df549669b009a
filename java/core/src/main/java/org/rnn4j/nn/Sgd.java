package org.rnn4j.nn;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * Stochastic gradient descent, PyTorch's {@code torch.optim.SGD(params, lr, momentum, weight_decay)}
 * ({@code dampening=0, nesterov=False}), over every parameter of a {@link ParameterArena} at once. With momentum or
 * weight decay it is {@link Backend#sgdMomentumUpdate}, its momentum buffer and step count on the device; without
 * either it is the stateless {@code p -= lr * g} ({@link Backend#sgdUpdate}), the same numbers. Not thread-safe.
 */
public final class Sgd implements Optimizer {

    private final ParameterArena arena;
    private final Backend backend;
    private final Buffer state; // [momentumBuffer | step], or just [step] when stateless
    private final Buffer momentumBuffer;
    private final Buffer step;
    private double lr;
    private final double momentum;
    private final double weightDecay;

    /**
     * Plain SGD, {@code p -= lr * g}.
     *
     * @param arena the parameters and gradients to update
     * @param lr    learning rate, finite and not negative
     */
    public Sgd(ParameterArena arena, double lr) {
        this(arena, lr, 0, 0);
    }

    /**
     * @param arena       the parameters and gradients to update
     * @param lr          learning rate, finite and not negative
     * @param momentum    momentum factor, finite and not negative (0: none)
     * @param weightDecay L2 penalty added to the gradient, finite and not negative
     * @throws IllegalArgumentException naming the first bad argument
     */
    public Sgd(ParameterArena arena, double lr, double momentum, double weightDecay) {
        this.arena = Checks.notNull(arena, "arena");
        Adam.nonNegative(lr, "lr");
        Adam.nonNegative(momentum, "momentum");
        Adam.nonNegative(weightDecay, "weightDecay");
        this.backend = arena.backend();
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        int n = arena.size();
        if (stateless()) {
            this.state = backend.allocate(1);
            this.momentumBuffer = null;
            this.step = state;
        } else {
            this.state = backend.allocate(Math.addExact(n, 1));
            this.momentumBuffer = state.slice(0, n);
            this.step = state.slice(n, 1);
        }
    }

    private boolean stateless() {
        return momentum == 0 && weightDecay == 0;
    }

    @Override
    public void step() {
        if (stateless()) {
            backend.sgdUpdate(arena.params(), arena.grads(), lr);
            return;
        }
        backend.sgdMomentumUpdate(arena.params(), arena.grads(), momentumBuffer, step, lr, momentum, weightDecay);
    }

    @Override
    public ParameterArena arena() {
        return arena;
    }

    /**
     * {@inheritDoc} Plain SGD (no momentum, no weight decay) keeps no count and reports 0.
     */
    @Override
    public long stepCount() {
        return (long) backend.download(step)[0];
    }

    /** @return the learning rate */
    public double learningRate() {
        return lr;
    }

    /**
     * Changes the learning rate for the following steps; the momentum buffer is kept.
     *
     * @param lr finite and not negative
     */
    public void setLearningRate(double lr) {
        Adam.nonNegative(lr, "lr");
        this.lr = lr;
    }

    @Override
    public void close() {
        state.close();
    }
}

package org.rnn4j.nn;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * Mean squared error over {@code n} values, PyTorch's {@code F.mse_loss} (mean reduction):
 * {@code L = sum (pred - target)^2 / n}, gradient {@code 2 (pred - target) / n}. Over {@link Backend#mseForward} and
 * {@link Backend#mseBackward}; holds the targets and the value on the device. Not thread-safe.
 */
public final class MseLoss implements Loss {

    private final Backend backend;
    private final int n;
    private final Buffer targets;
    private final Buffer loss;

    /**
     * @param backend where it runs
     * @param n       values compared, at least 1
     */
    public MseLoss(Backend backend, int n) {
        this.backend = Checks.notNull(backend, "backend");
        this.n = Checks.atLeastOne(n, "n");
        Buffer t = backend.allocate(n);
        try {
            this.loss = backend.allocate(1);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        this.targets = t;
    }

    /** @return values compared */
    public int size() {
        return n;
    }

    /** @return the targets, {@code n} values, which the caller may write directly */
    public Buffer targets() {
        return targets;
    }

    /**
     * Uploads the targets.
     *
     * @param values {@code n} values
     */
    public void setTargets(double[] values) {
        Checks.upload(backend, values, targets, "targets");
    }

    /**
     * Uploads the targets.
     *
     * @param values {@code n} values
     */
    public void setTargets(float[] values) {
        Checks.upload(backend, values, targets, "targets");
    }

    /**
     * {@inheritDoc}
     *
     * @param outputs the predictions, {@code n} values
     */
    @Override
    public void forward(Buffer outputs) {
        Checks.buffer(backend, outputs, "outputs", n, "");
        backend.mseForward(outputs, targets, loss);
    }

    /**
     * {@inheritDoc} The mean's gradient {@code 2 (pred - target) / n}.
     *
     * @param outputs     the predictions, {@code n} values
     * @param outputGrads {@code dL/d pred}, {@code n} values (may be {@code outputs} itself)
     */
    @Override
    public void backward(Buffer outputs, Buffer outputGrads) {
        Checks.buffer(backend, outputs, "outputs", n, "");
        Checks.buffer(backend, outputGrads, "outputGrads", n, "");
        backend.mseBackward(outputs, targets, 2.0 / n, outputGrads);
    }

    @Override
    public Buffer loss() {
        return loss;
    }

    @Override
    public double value() {
        return backend.download(loss)[0];
    }

    @Override
    public void close() {
        targets.close();
        loss.close();
    }
}

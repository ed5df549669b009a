package org.rnn4j.nn;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * Softmax cross-entropy over {@code rows} positions with integer class targets, averaged over the rows: PyTorch's
 * {@code F.cross_entropy(logits.reshape(-1, classes), targets.reshape(-1))} (mean reduction, no weights), for example
 * over the {@code T * B} positions of a {@code (T, B, classes)} sequence of logits. Over
 * {@link Backend#crossEntropyForward} and {@link Backend#crossEntropyBackward} (the log-sum-exp form, safe for any
 * finite logits). Holds the targets ({@code rows} indices) and the value on the device. Not thread-safe.
 */
public final class CrossEntropyLoss implements Loss {

    private final Backend backend;
    private final int rows;
    private final int classes;
    private final Buffer targets;
    private final Buffer loss;

    /**
     * @param backend where it runs
     * @param rows    positions, at least 1
     * @param classes classes per position, at least 1 (at most {@link Backend#MAX_INDEX_RANGE_FLOAT32} in float32)
     */
    public CrossEntropyLoss(Backend backend, int rows, int classes) {
        this.backend = Checks.notNull(backend, "backend");
        this.rows = Checks.atLeastOne(rows, "rows");
        this.classes = Checks.atLeastOne(classes, "classes");
        Math.multiplyExact(rows, classes);
        Buffer t = backend.allocate(rows);
        try {
            this.loss = backend.allocate(1);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        this.targets = t;
    }

    /** @return positions */
    public int rows() {
        return rows;
    }

    /** @return classes per position */
    public int classes() {
        return classes;
    }

    /** @return the targets, {@code rows} class indices as exact values, which the caller may write directly */
    public Buffer targets() {
        return targets;
    }

    /**
     * Uploads the targets.
     *
     * @param values {@code rows} class indices in {@code [0, classes)}
     */
    public void setTargets(int[] values) {
        Checks.uploadIndices(backend, values, targets, "targets");
    }

    /**
     * {@inheritDoc}
     *
     * @param outputs the logits {@code (rows, classes)}
     */
    @Override
    public void forward(Buffer outputs) {
        Checks.buffer(backend, outputs, "outputs", (long) rows * classes, "(rows, classes)");
        backend.crossEntropyForward(rows, classes, outputs, targets, loss, true);
    }

    /**
     * {@inheritDoc} The mean's gradient: {@code (softmax(x) - onehot(t)) / rows}.
     *
     * @param outputs     the logits {@code (rows, classes)}
     * @param outputGrads {@code dL/d logits (rows, classes)}
     */
    @Override
    public void backward(Buffer outputs, Buffer outputGrads) {
        Checks.buffer(backend, outputs, "outputs", (long) rows * classes, "(rows, classes)");
        Checks.buffer(backend, outputGrads, "outputGrads", (long) rows * classes, "(rows, classes)");
        backend.crossEntropyBackward(rows, classes, outputs, targets, 1.0 / rows, outputGrads);
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

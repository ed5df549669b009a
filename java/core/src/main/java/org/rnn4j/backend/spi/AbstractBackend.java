package org.rnn4j.backend.spi;

import org.rnn4j.backend.*;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks every call at the API boundary, once for all backends, then hands the validated call to the
 * implementation's {@code do*} method; also tracks allocations so that {@link #close()} releases whatever is left.
 * Implementations keep only the math (and the device plumbing). An operation on zero elements (views of length 0)
 * is validated and then does nothing, on every backend: no {@code do*} method is called with an empty buffer.
 */
public abstract class AbstractBackend implements Backend {

    private final Precision precision;
    private final List<Buffer> roots = new ArrayList<>();
    private boolean closed;
    private boolean recording;
    /** While a CPU-style record checks its body: operations are validated but not run. */
    private boolean dryRun;
    private final List<Backend.Replay> replays = new ArrayList<>();

    protected AbstractBackend(Precision precision) {
        if (precision == null) {
            throw new IllegalArgumentException("precision must not be null");
        }
        this.precision = precision;
    }

    @Override
    public final Precision precision() {
        return precision;
    }

    /** Allocates zero-filled storage for {@code length} elements. */
    protected abstract Allocation doAllocate(int length);

    protected abstract void doUpload(double[] src, int srcOffset, Buffer dst);

    protected abstract void doDownload(Buffer src, double[] dst, int dstOffset);

    protected abstract void doGemm(boolean transA, boolean transB, int m, int n, int k,
                                   double alpha, Buffer a, int lda, Buffer b, int ldb,
                                   double beta, Buffer c, int ldc);

    protected abstract void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst);

    protected abstract void doSigmoidForward(Buffer x, Buffer y);

    protected abstract void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx);

    protected abstract void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                                  Buffer gates, Buffer s, Buffer h);

    protected abstract void doSeedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev,
                                                   Buffer dh, Buffer dsNext, Buffer dPreact, Buffer dsPrev);

    protected abstract void doStandardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh,
                                                      Buffer biasHh, Buffer cPrev, Buffer gates, Buffer c, Buffer h);

    protected abstract void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev,
                                                       Buffer dh, Buffer dcNext, Buffer dPreact, Buffer dcPrev);

    protected abstract void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate);

    protected abstract void doSgdUpdate(Buffer params, Buffer grads, double learningRate);

    protected abstract void doCrossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                                  boolean mean);

    protected abstract void doCrossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                                   Buffer dLogits);

    protected abstract void doMseForward(Buffer pred, Buffer target, Buffer loss);

    protected abstract void doMseBackward(Buffer pred, Buffer target, double scale, Buffer dPred);

    protected abstract void doEmbeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out);

    protected abstract void doEmbeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable,
                                                boolean accumulate);

    protected abstract void doBiasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y);

    protected abstract void doDropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y);

    protected abstract void doDropoutBackward(Buffer dy, Buffer mask, Buffer dx);

    protected abstract void doL2Norm(Buffer x, Buffer norm);

    protected abstract void doClipCoefficient(Buffer norm, double maxNorm, Buffer coef);

    protected abstract void doScaleBy(Buffer x, Buffer factor);

    protected abstract void doAdamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step,
                                         double lr, double beta1, double beta2, double eps, double weightDecay);

    protected abstract void doSgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step,
                                                double lr, double momentum, double weightDecay);

    protected abstract void doSynchronize();

    /**
     * Records what {@code body} issues; the default (for backends without graphs) runs {@code body} once with every
     * operation validated but not run, then replays by running {@code body}.
     * Called with recording guarded: uploads, downloads, synchronizing and allocating throw meanwhile.
     */
    protected Backend.Replay doRecord(Runnable body) {
        // Check the body now, as a graph capture would (arguments, and nothing forbidden while recording), without
        // running its operations; the replay then runs it for real.
        dryRun = true;
        try {
            body.run();
        } finally {
            dryRun = false;
        }
        return new Backend.Replay() {
            private boolean closed;

            @Override
            public void replay() {
                if (closed) {
                    throw new IllegalStateException("replay used after it was closed");
                }
                body.run();
            }

            @Override
            public boolean recorded() {
                return false;
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }

    /** Releases the backend's own resources, after every buffer has been released. */
    protected abstract void doClose();

    @Override
    public final Buffer allocate(int length) {
        checkOpen();
        notRecording("allocate");
        if (length < 1) {
            throw new IllegalArgumentException("length must be at least 1, got " + length);
        }
        if (roots.size() >= 64 && Integer.bitCount(roots.size()) == 1) {
            roots.removeIf(Buffer::isClosed); // forget buffers their owners already closed
        }
        Buffer buffer = Buffer.root(doAllocate(length));
        roots.add(buffer);
        return buffer;
    }

    @Override
    public final void upload(double[] src, int srcOffset, Buffer dst) {
        check(dst, "dst");
        notRecording("upload");
        if (src == null) {
            throw new IllegalArgumentException("src must not be null");
        }
        if (srcOffset < 0 || srcOffset > src.length - dst.length()) {
            throw new IllegalArgumentException("src holds " + src.length + " values; cannot read " + dst.length()
                    + " from offset " + srcOffset);
        }
        if (dst.length() > 0) {
            doUpload(src, srcOffset, dst);
        }
    }

    @Override
    public final void download(Buffer src, double[] dst, int dstOffset) {
        check(src, "src");
        notRecording("download");
        if (dst == null) {
            throw new IllegalArgumentException("dst must not be null");
        }
        if (dstOffset < 0 || dstOffset > dst.length - src.length()) {
            throw new IllegalArgumentException("dst holds " + dst.length + " values; cannot write " + src.length()
                    + " at offset " + dstOffset);
        }
        if (src.length() > 0) {
            doDownload(src, dst, dstOffset);
        }
    }

    @Override
    public final void gemm(boolean transA, boolean transB, int m, int n, int k,
                           double alpha, Buffer a, int lda, Buffer b, int ldb,
                           double beta, Buffer c, int ldc) {
        positive(m, "m");
        positive(n, "n");
        if (k < 0) {
            throw new IllegalArgumentException("k must not be negative, got " + k);
        }
        finite(alpha, "alpha");
        finite(beta, "beta");
        // Stored shapes: A is (m, k), or (k, m) when transposed; B is (k, n), or (n, k).
        matrix(a, "a", transA ? k : m, transA ? m : k, lda, "lda");
        matrix(b, "b", transB ? n : k, transB ? k : n, ldb, "ldb");
        matrix(c, "c", m, n, ldc, "ldc");
        disjoint(c, "c", a, "a");
        disjoint(c, "c", b, "b");
        if (!dryRun) {
            doGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        }
    }

    @Override
    public final void copyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst) {
        positive(rows, "rows");
        positive(cols, "cols");
        matrix(src, "src", rows, cols, ldSrc, "ldSrc");
        matrix(dst, "dst", rows, cols, ldDst, "ldDst");
        disjoint(dst, "dst", src, "src");
        if (!dryRun) {
            doCopyMatrix(rows, cols, src, ldSrc, dst, ldDst);
        }
    }

    @Override
    public final void sigmoidForward(Buffer x, Buffer y) {
        check(x, "x");
        sameLength(y, "y", x.length());
        inPlaceOrDisjoint(y, "y", x, "x");
        if (!dryRun && x.length() > 0) {
            doSigmoidForward(x, y);
        }
    }

    @Override
    public final void sigmoidBackward(Buffer dy, Buffer y, Buffer dx) {
        check(dy, "dy");
        sameLength(y, "y", dy.length());
        sameLength(dx, "dx", dy.length());
        inPlaceOrDisjoint(dx, "dx", dy, "dy");
        disjoint(dx, "dx", y, "y");
        if (!dryRun && dy.length() > 0) {
            doSigmoidBackward(dy, y, dx);
        }
    }

    @Override
    public final void seedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                          Buffer gates, Buffer s, Buffer h) {
        cellForwardArgs(batch, hidden, preact, new Buffer[] {bias}, new String[] {"bias"}, sPrev, "sPrev", gates,
                s, "s", h);
        if (!dryRun) {
            doSeedLstmCellForward(batch, hidden, preact, bias, sPrev, gates, s, h);
        }
    }

    @Override
    public final void seedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev, Buffer dh,
                                           Buffer dsNext, Buffer dPreact, Buffer dsPrev) {
        cellBackwardArgs(batch, hidden, gates, s, "s", sPrev, "sPrev", dh, dsNext, "dsNext", dPreact, dsPrev,
                "dsPrev");
        if (!dryRun) {
            doSeedLstmCellBackward(batch, hidden, gates, s, sPrev, dh, dsNext, dPreact, dsPrev);
        }
    }

    @Override
    public final void standardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh, Buffer biasHh,
                                              Buffer cPrev, Buffer gates, Buffer c, Buffer h) {
        cellForwardArgs(batch, hidden, preact, new Buffer[] {biasIh, biasHh}, new String[] {"biasIh", "biasHh"},
                cPrev, "cPrev", gates, c, "c", h);
        if (!dryRun) {
            doStandardLstmCellForward(batch, hidden, preact, biasIh, biasHh, cPrev, gates, c, h);
        }
    }

    @Override
    public final void standardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                               Buffer dcNext, Buffer dPreact, Buffer dcPrev) {
        cellBackwardArgs(batch, hidden, gates, c, "c", cPrev, "cPrev", dh, dcNext, "dcNext", dPreact, dcPrev,
                "dcPrev");
        if (!dryRun) {
            doStandardLstmCellBackward(batch, hidden, gates, c, cPrev, dh, dcNext, dPreact, dcPrev);
        }
    }

    /**
     * What both LSTM cells' forwards require: {@code (B, 4H)} pre-activations and gates (the gates may be the
     * pre-activations), {@code (4H)} biases, {@code (B, H)} previous and new cell state and output, the outputs
     * disjoint from every input and from each other.
     */
    private void cellForwardArgs(int batch, int hidden, Buffer preact, Buffer[] biases, String[] biasNames,
                                 Buffer prev, String prevName, Buffer gates, Buffer state, String stateName,
                                 Buffer h) {
        positive(batch, "batch");
        positive(hidden, "hidden");
        int gateUnits = product(GateLayout.GATES, hidden, "4 * hidden");
        int gateLen = product(batch, gateUnits, "batch * 4 * hidden");
        int stateLen = product(batch, hidden, "batch * hidden");
        sameLength(preact, "preact", gateLen);
        for (int i = 0; i < biases.length; i++) {
            sameLength(biases[i], biasNames[i], gateUnits);
        }
        sameLength(prev, prevName, stateLen);
        sameLength(gates, "gates", gateLen);
        sameLength(state, stateName, stateLen);
        sameLength(h, "h", stateLen);
        inPlaceOrDisjoint(gates, "gates", preact, "preact");
        for (Buffer out : new Buffer[] {state, h}) {
            String name = out == state ? stateName : "h";
            disjoint(out, name, preact, "preact");
            for (int i = 0; i < biases.length; i++) {
                disjoint(out, name, biases[i], biasNames[i]);
            }
            disjoint(out, name, prev, prevName);
            disjoint(out, name, gates, "gates");
        }
        disjoint(state, stateName, h, "h");
        for (int i = 0; i < biases.length; i++) {
            disjoint(gates, "gates", biases[i], biasNames[i]);
        }
        disjoint(gates, "gates", prev, prevName);
    }

    /**
     * What both LSTM cells' backwards require: {@code (B, 4H)} gates and pre-activation gradients, {@code (B, H)}
     * states and gradients; the carried gradient may be updated in place, every other output is disjoint from the
     * inputs and from each other.
     */
    private void cellBackwardArgs(int batch, int hidden, Buffer gates, Buffer state, String stateName, Buffer prev,
                                  String prevName, Buffer dh, Buffer dNext, String dNextName, Buffer dPreact,
                                  Buffer dPrev, String dPrevName) {
        positive(batch, "batch");
        positive(hidden, "hidden");
        int gateUnits = product(GateLayout.GATES, hidden, "4 * hidden");
        int gateLen = product(batch, gateUnits, "batch * 4 * hidden");
        int stateLen = product(batch, hidden, "batch * hidden");
        sameLength(gates, "gates", gateLen);
        sameLength(state, stateName, stateLen);
        sameLength(prev, prevName, stateLen);
        sameLength(dh, "dh", stateLen);
        sameLength(dNext, dNextName, stateLen);
        sameLength(dPreact, "dPreact", gateLen);
        sameLength(dPrev, dPrevName, stateLen);
        inPlaceOrDisjoint(dPrev, dPrevName, dNext, dNextName);
        Buffer[] inputs = {gates, state, prev, dh};
        String[] names = {"gates", stateName, prevName, "dh"};
        for (int i = 0; i < inputs.length; i++) {
            disjoint(dPreact, "dPreact", inputs[i], names[i]);
            disjoint(dPrev, dPrevName, inputs[i], names[i]);
        }
        disjoint(dPreact, "dPreact", dNext, dNextName);
        disjoint(dPreact, "dPreact", dPrev, dPrevName);
    }

    @Override
    public final void sumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
        positive(rows, "rows");
        positive(cols, "cols");
        sameLength(src, "src", product(rows, cols, "rows * cols"));
        sameLength(dst, "dst", cols);
        disjoint(dst, "dst", src, "src");
        if (!dryRun) {
            doSumRows(rows, cols, src, dst, accumulate);
        }
    }

    @Override
    public final void sgdUpdate(Buffer params, Buffer grads, double learningRate) {
        check(params, "params");
        sameLength(grads, "grads", params.length());
        disjoint(params, "params", grads, "grads");
        finite(learningRate, "learningRate");
        if (!dryRun && params.length() > 0) {
            doSgdUpdate(params, grads, learningRate);
        }
    }

    @Override
    public final void crossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                          boolean mean) {
        crossEntropyArgs(rows, classes, logits, targets);
        sameLength(loss, "loss", mean ? 1 : rows);
        disjoint(loss, "loss", logits, "logits");
        disjoint(loss, "loss", targets, "targets");
        if (!dryRun) {
            doCrossEntropyForward(rows, classes, logits, targets, loss, mean);
        }
    }

    @Override
    public final void crossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                           Buffer dLogits) {
        crossEntropyArgs(rows, classes, logits, targets);
        finite(scale, "scale");
        sameLength(dLogits, "dLogits", logits.length());
        disjoint(dLogits, "dLogits", logits, "logits");
        disjoint(dLogits, "dLogits", targets, "targets");
        if (!dryRun) {
            doCrossEntropyBackward(rows, classes, logits, targets, scale, dLogits);
        }
    }

    private void crossEntropyArgs(int rows, int classes, Buffer logits, Buffer targets) {
        positive(rows, "rows");
        positive(classes, "classes");
        indexRange(classes, "classes");
        sameLength(logits, "logits", product(rows, classes, "rows * classes"));
        sameLength(targets, "targets", rows);
    }

    @Override
    public final void mseForward(Buffer pred, Buffer target, Buffer loss) {
        check(pred, "pred");
        sameLength(target, "target", pred.length());
        sameLength(loss, "loss", 1);
        disjoint(loss, "loss", pred, "pred");
        disjoint(loss, "loss", target, "target");
        if (!dryRun) {
            doMseForward(pred, target, loss);
        }
    }

    @Override
    public final void mseBackward(Buffer pred, Buffer target, double scale, Buffer dPred) {
        check(pred, "pred");
        sameLength(target, "target", pred.length());
        finite(scale, "scale");
        sameLength(dPred, "dPred", pred.length());
        inPlaceOrDisjoint(dPred, "dPred", pred, "pred");
        disjoint(dPred, "dPred", target, "target");
        if (!dryRun) {
            doMseBackward(pred, target, scale, dPred);
        }
    }

    @Override
    public final void embeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out) {
        positive(vocab, "vocab");
        positive(dim, "dim");
        indexRange(vocab, "vocab");
        sameLength(table, "table", product(vocab, dim, "vocab * dim"));
        check(indices, "indices");
        sameLength(out, "out", product(indices.length(), dim, "indices.length() * dim"));
        disjoint(out, "out", table, "table");
        disjoint(out, "out", indices, "indices");
        if (!dryRun) {
            doEmbeddingForward(vocab, dim, table, indices, out);
        }
    }

    @Override
    public final void embeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable,
                                        boolean accumulate) {
        positive(vocab, "vocab");
        positive(dim, "dim");
        indexRange(vocab, "vocab");
        check(indices, "indices");
        sameLength(dOut, "dOut", product(indices.length(), dim, "indices.length() * dim"));
        sameLength(dTable, "dTable", product(vocab, dim, "vocab * dim"));
        disjoint(dTable, "dTable", indices, "indices");
        disjoint(dTable, "dTable", dOut, "dOut");
        if (!dryRun) {
            doEmbeddingBackward(vocab, dim, indices, dOut, dTable, accumulate);
        }
    }

    @Override
    public final void biasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y) {
        positive(rows, "rows");
        positive(cols, "cols");
        int len = product(rows, cols, "rows * cols");
        sameLength(x, "x", len);
        sameLength(bias, "bias", cols);
        sameLength(y, "y", len);
        inPlaceOrDisjoint(y, "y", x, "x");
        disjoint(y, "y", bias, "bias");
        if (!dryRun) {
            doBiasAdd(rows, cols, x, bias, y);
        }
    }

    @Override
    public final void dropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y) {
        check(x, "x");
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("p must lie in [0, 1), got " + p);
        }
        sameLength(mask, "mask", x.length());
        sameLength(y, "y", x.length());
        inPlaceOrDisjoint(y, "y", x, "x");
        disjoint(mask, "mask", x, "x");
        disjoint(mask, "mask", y, "y");
        if (!dryRun) {
            doDropoutForward(x, p, seed, offset, mask, y);
        }
    }

    @Override
    public final void dropoutBackward(Buffer dy, Buffer mask, Buffer dx) {
        check(dy, "dy");
        sameLength(mask, "mask", dy.length());
        sameLength(dx, "dx", dy.length());
        inPlaceOrDisjoint(dx, "dx", dy, "dy");
        disjoint(dx, "dx", mask, "mask");
        if (!dryRun) {
            doDropoutBackward(dy, mask, dx);
        }
    }

    @Override
    public final void l2Norm(Buffer x, Buffer norm) {
        check(x, "x");
        sameLength(norm, "norm", 1);
        disjoint(norm, "norm", x, "x");
        if (!dryRun) {
            doL2Norm(x, norm);
        }
    }

    @Override
    public final void clipCoefficient(Buffer norm, double maxNorm, Buffer coef) {
        sameLength(norm, "norm", 1);
        sameLength(coef, "coef", 1);
        notNegative(maxNorm, "maxNorm");
        inPlaceOrDisjoint(coef, "coef", norm, "norm");
        if (!dryRun) {
            doClipCoefficient(norm, maxNorm, coef);
        }
    }

    @Override
    public final void scaleBy(Buffer x, Buffer factor) {
        check(x, "x");
        sameLength(factor, "factor", 1);
        disjoint(x, "x", factor, "factor");
        if (!dryRun) {
            doScaleBy(x, factor);
        }
    }

    @Override
    public final void adamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step, double lr,
                                 double beta1, double beta2, double eps, double weightDecay) {
        optimizerBuffers(params, grads, new Buffer[] {expAvg, expAvgSq}, new String[] {"expAvg", "expAvgSq"}, step);
        notNegative(lr, "lr");
        beta(beta1, "beta1");
        beta(beta2, "beta2");
        notNegative(eps, "eps");
        notNegative(weightDecay, "weightDecay");
        if (!dryRun) {
            doAdamUpdate(params, grads, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay);
        }
    }

    @Override
    public final void sgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step, double lr,
                                        double momentum, double weightDecay) {
        optimizerBuffers(params, grads, new Buffer[] {momentumBuffer}, new String[] {"momentumBuffer"}, step);
        notNegative(lr, "lr");
        notNegative(momentum, "momentum");
        notNegative(weightDecay, "weightDecay");
        if (!dryRun) {
            doSgdMomentumUpdate(params, grads, momentumBuffer, step, lr, momentum, weightDecay);
        }
    }

    /** An optimizer's buffers: equal lengths but the one-element step, and no two overlapping. */
    private void optimizerBuffers(Buffer params, Buffer grads, Buffer[] state, String[] stateNames, Buffer step) {
        check(params, "params");
        sameLength(grads, "grads", params.length());
        for (int i = 0; i < state.length; i++) {
            sameLength(state[i], stateNames[i], params.length());
        }
        sameLength(step, "step", 1);
        Buffer[] all = new Buffer[state.length + 3];
        String[] names = new String[all.length];
        all[0] = params;
        names[0] = "params";
        all[1] = grads;
        names[1] = "grads";
        System.arraycopy(state, 0, all, 2, state.length);
        System.arraycopy(stateNames, 0, names, 2, state.length);
        all[all.length - 1] = step;
        names[all.length - 1] = "step";
        for (int i = 0; i < all.length; i++) {
            for (int j = 0; j < i; j++) {
                disjoint(all[i], names[i], all[j], names[j]);
            }
        }
    }

    @Override
    public final void synchronize() {
        checkOpen();
        notRecording("synchronize");
        doSynchronize();
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        notRecording("closing the backend");
        closed = true;
        for (Backend.Replay r : replays) {
            r.close(); // graphs first: they refer to the buffers
        }
        replays.clear();
        for (Buffer root : roots) {
            root.close();
        }
        roots.clear();
        doClose();
    }

    /**
     * Bytes held by this backend's live allocations: every buffer it allocated and nobody has closed yet. The number a
     * training loop must keep constant from iteration to iteration (docs/memory.md).
     */
    public final long allocatedBytes() {
        long elements = 0;
        for (Buffer root : roots) {
            if (!root.isClosed()) {
                elements += root.length();
            }
        }
        return elements * precision.bytes();
    }

    /** Whether {@link #close()} has been called. */
    public final boolean isClosed() {
        return closed;
    }

    // ---- checks -----------------------------------------------------------------------------------------------

    @Override
    public final Backend.Replay record(Runnable body) {
        checkOpen();
        if (body == null) {
            throw new IllegalArgumentException("body must not be null");
        }
        notRecording("record");
        recording = true;
        Backend.Replay replay;
        try {
            replay = doRecord(body);
        } finally {
            recording = false;
        }
        replays.add(replay);
        return replay;
    }

    /**
     * Called by {@link Buffer#close()} before it releases memory of this backend's; refuses while recording.
     *
     * @throws IllegalStateException inside a {@link #record} body
     */
    public final void beforeRelease() {
        notRecording("closing a buffer");
    }

    private void notRecording(String what) {
        if (recording) {
            throw new IllegalStateException(what + " is not allowed while recording a replay");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(name() + " backend used after it was closed");
        }
    }

    private void check(Buffer buffer, String name) {
        checkOpen();
        if (buffer == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (buffer.owner() != this) {
            throw new IllegalStateException(name + " belongs to another backend");
        }
        buffer.checkOpen();
    }

    private void sameLength(Buffer buffer, String name, int expected) {
        check(buffer, name);
        if (buffer.length() != expected) {
            throw new IllegalArgumentException(name + " must hold " + expected + " elements, holds " + buffer.length());
        }
    }

    private void matrix(Buffer buffer, String name, int rows, int cols, int ld, String ldName) {
        check(buffer, name);
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(ldName + " must be at least " + Math.max(1, cols) + ", got " + ld);
        }
        long needed = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (buffer.length() < needed) {
            throw new IllegalArgumentException(name + " must hold at least " + needed + " elements for a (" + rows
                    + ", " + cols + ") matrix with " + ldName + " " + ld + ", holds " + buffer.length());
        }
    }

    private static void positive(int value, String name) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + value);
        }
    }

    /** A size product, which must fit one buffer. */
    private static int product(int a, int b, String what) {
        long p = (long) a * b;
        if (p > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " = " + p + " exceeds the largest buffer, " + Integer.MAX_VALUE);
        }
        return (int) p;
    }

    /** A scalar must stay finite once rounded to this backend's precision. */
    private void finite(double value, String name) {
        boolean ok = precision == Precision.FLOAT32 ? Float.isFinite((float) value) : Double.isFinite(value);
        if (!ok) {
            throw new IllegalArgumentException(name + " must be finite in " + precision + ", got " + value);
        }
    }

    /** A scalar that must be finite in this precision and not negative. */
    private void notNegative(double value, String name) {
        finite(value, name);
        if (value < 0) {
            throw new IllegalArgumentException(name + " must not be negative, got " + value);
        }
    }

    /** An exponential-average coefficient: in {@code [0, 1)}, as PyTorch requires of Adam's betas. */
    private static void beta(double value, String name) {
        if (!(value >= 0 && value < 1)) {
            throw new IllegalArgumentException(name + " must lie in [0, 1), got " + value);
        }
    }

    /** A class count or vocabulary, whose indices must be exact in this precision. */
    private void indexRange(int range, String name) {
        if (precision == Precision.FLOAT32 && range > MAX_INDEX_RANGE_FLOAT32) {
            throw new IllegalArgumentException(name + " must be at most " + MAX_INDEX_RANGE_FLOAT32
                    + " in float32 (indices are held as exact float values), got " + range);
        }
    }

    private static boolean overlap(Buffer x, Buffer y) {
        return x.allocation() == y.allocation()
                && x.offset() < y.offset() + y.length() && y.offset() < x.offset() + x.length();
    }

    private static void disjoint(Buffer out, String outName, Buffer in, String inName) {
        if (overlap(out, in)) {
            throw new IllegalArgumentException(outName + " must not overlap " + inName);
        }
    }

    private static void inPlaceOrDisjoint(Buffer out, String outName, Buffer in, String inName) {
        boolean same = out.allocation() == in.allocation() && out.offset() == in.offset()
                && out.length() == in.length();
        if (!same && overlap(out, in)) {
            throw new IllegalArgumentException(outName + " must be " + inName + " itself or not overlap it");
        }
    }
}

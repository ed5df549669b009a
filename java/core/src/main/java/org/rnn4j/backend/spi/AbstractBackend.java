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

    /**
     * Starts a backend that stores and computes in {@code precision}.
     *
     * @param precision the element format of every buffer, fixed for the backend's life
     * @throws IllegalArgumentException when {@code precision} is null
     */
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

    /**
     * Allocates zero-filled storage for {@code length} elements; called with the backend open and not recording.
     *
     * @param length the number of elements, at least 1
     * @return the storage, owned by this backend, which {@link Buffer#root} then wraps
     */
    protected abstract Allocation doAllocate(int length);

    /**
     * Copies host values into the buffer, as {@link Backend#upload(double[], int, Buffer)}; called with {@code dst}
     * this backend's, open and not empty, {@code src} long enough, and not while recording. Must have read {@code src}
     * when it returns.
     *
     * @param src       the values
     * @param srcOffset where in {@code src} to start
     * @param dst       the buffer to fill, entirely
     */
    protected abstract void doUpload(double[] src, int srcOffset, Buffer dst);

    /**
     * Copies the buffer's values to the host after all earlier work, as
     * {@link Backend#download(Buffer, double[], int)}; called with {@code src} this backend's, open and not empty,
     * {@code dst} long enough, and not while recording.
     *
     * @param src       the buffer to read, entirely
     * @param dst       where to write
     * @param dstOffset where in {@code dst} to start
     */
    protected abstract void doDownload(Buffer src, double[] dst, int dstOffset);

    /**
     * Runs {@link Backend#gemm} once validated: {@code m, n} positive, {@code k} not negative, {@code alpha} and
     * {@code beta} finite in the precision, every buffer long enough for its leading dimension, {@code c} disjoint from
     * {@code a} and {@code b}.
     *
     * @param transA whether {@code op(A)} is the transpose of the stored {@code A}
     * @param transB whether {@code op(B)} is the transpose of the stored {@code B}
     * @param m      rows of {@code op(A)} and {@code C}, positive
     * @param n      columns of {@code op(B)} and {@code C}, positive
     * @param k      the inner dimension, not negative
     * @param alpha  the factor of the product
     * @param a      the stored {@code A}: {@code (m, k)}, or {@code (k, m)} when {@code transA}
     * @param lda    the leading dimension of {@code a}, at least its stored column count
     * @param b      the stored {@code B}: {@code (k, n)}, or {@code (n, k)} when {@code transB}
     * @param ldb    the leading dimension of {@code b}, at least its stored column count
     * @param beta   the factor of the old {@code C}; 0 ignores it
     * @param c      the output {@code (m, n)}; must not overlap {@code a} or {@code b}
     * @param ldc    the leading dimension of {@code c}, at least {@code n}
     */
    protected abstract void doGemm(boolean transA, boolean transB, int m, int n, int k,
                                   double alpha, Buffer a, int lda, Buffer b, int ldb,
                                   double beta, Buffer c, int ldc);

    /**
     * Runs {@link Backend#copyMatrix} once validated: positive sizes, buffers long enough for their leading dimensions,
     * {@code dst} disjoint from {@code src}.
     *
     * @param rows  the number of rows copied, positive
     * @param cols  the number of columns copied, positive
     * @param src   the source matrix
     * @param ldSrc the leading dimension of {@code src}, at least {@code cols}
     * @param dst   the destination matrix; must not overlap {@code src}
     * @param ldDst the leading dimension of {@code dst}, at least {@code cols}
     */
    protected abstract void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst);

    /**
     * Runs {@link Backend#sigmoidForward} once validated: equal, non-zero lengths; {@code y} is {@code x} or disjoint
     * from it.
     *
     * @param x the input
     * @param y the output
     */
    protected abstract void doSigmoidForward(Buffer x, Buffer y);

    /**
     * Runs {@link Backend#sigmoidBackward} once validated: equal, non-zero lengths; {@code dx} is {@code dy} or
     * disjoint from it, and disjoint from {@code y}.
     *
     * @param dy the gradient reaching the sigmoid's output
     * @param y  the sigmoid's output, as {@link #sigmoidForward} wrote it
     * @param dx the gradient of its input, written
     */
    protected abstract void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx);

    /**
     * Runs {@link Backend#seedLstmCellForward} once validated: every length matches {@code batch} and {@code hidden};
     * {@code gates} is {@code preact} or disjoint from it; the other outputs are disjoint from the inputs and from each
     * other.
     *
     * @param batch  the batch size {@code B}, positive
     * @param hidden the hidden size {@code H}, positive
     * @param preact the gate pre-activations without bias, {@code (B, 4H)}
     * @param bias   the gate bias, {@code (4H)}
     * @param sPrev  the previous cell state, {@code (B, H)}
     * @param gates  the post-activation gates, {@code (B, 4H)}, written
     * @param s      the new cell state, {@code (B, H)}, written
     * @param h      the new output, {@code (B, H)}, written
     */
    protected abstract void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                                  Buffer gates, Buffer s, Buffer h);

    /**
     * Runs {@link Backend#seedLstmCellBackward} once validated: every length matches {@code batch} and {@code hidden};
     * {@code dsPrev} is {@code dsNext} or disjoint from it; the other outputs are disjoint from the inputs and from
     * each other.
     *
     * @param batch   the batch size {@code B}, positive
     * @param hidden  the hidden size {@code H}, positive
     * @param gates   the forward's post-activation gates, {@code (B, 4H)}
     * @param s       the forward's cell state, {@code (B, H)}
     * @param sPrev   the previous cell state the forward read, {@code (B, H)}
     * @param dh      the gradient reaching this step's output, {@code (B, H)}
     * @param dsNext  the cell-state gradient carried from the next step, {@code (B, H)} (zero at the last step)
     * @param dPreact the pre-activation gradients, {@code (B, 4H)}, written
     * @param dsPrev  the cell-state gradient carried to the previous step, {@code (B, H)}, written
     */
    protected abstract void doSeedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev,
                                                   Buffer dh, Buffer dsNext, Buffer dPreact, Buffer dsPrev);

    /**
     * Runs {@link Backend#standardLstmCellForward} once validated: every length matches {@code batch} and
     * {@code hidden}; {@code gates} is {@code preact} or disjoint from it; the other outputs are disjoint from the
     * inputs and from each other.
     *
     * @param batch  the batch size {@code B}, positive
     * @param hidden the hidden size {@code H}, positive
     * @param preact the gate pre-activations without bias, {@code (B, 4H)}
     * @param biasIh the input-hidden bias {@code b_ih}, {@code (4H)}
     * @param biasHh the hidden-hidden bias {@code b_hh}, {@code (4H)}
     * @param cPrev  the previous cell state, {@code (B, H)}
     * @param gates  the post-activation gates, {@code (B, 4H)}, written
     * @param c      the new cell state, {@code (B, H)}, written
     * @param h      the new output, {@code (B, H)}, written
     */
    protected abstract void doStandardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh,
                                                      Buffer biasHh, Buffer cPrev, Buffer gates, Buffer c, Buffer h);

    /**
     * Runs {@link Backend#standardLstmCellBackward} once validated: every length matches {@code batch} and
     * {@code hidden}; {@code dcPrev} is {@code dcNext} or disjoint from it; the other outputs are disjoint from the
     * inputs and from each other.
     *
     * @param batch   the batch size {@code B}, positive
     * @param hidden  the hidden size {@code H}, positive
     * @param gates   the forward's post-activation gates, {@code (B, 4H)}
     * @param c       the forward's cell state, {@code (B, H)}
     * @param cPrev   the previous cell state the forward read, {@code (B, H)}
     * @param dh      the gradient reaching this step's output, {@code (B, H)}
     * @param dcNext  the cell-state gradient carried from the next step, {@code (B, H)} (zero at the last step)
     * @param dPreact the pre-activation gradients, {@code (B, 4H)}, written
     * @param dcPrev  the cell-state gradient carried to the previous step, {@code (B, H)}, written
     */
    protected abstract void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev,
                                                       Buffer dh, Buffer dcNext, Buffer dPreact, Buffer dcPrev);

    /**
     * Runs {@link Backend#sumRows} once validated: positive sizes, {@code src (rows, cols)}, {@code dst (cols)}
     * disjoint from it. Must sum in the order {@link org.rnn4j.backend.ColumnSums} defines.
     *
     * @param rows       the number of rows summed, positive
     * @param cols       the number of columns, positive
     * @param src        the matrix {@code (rows, cols)}, contiguous
     * @param dst        the column sums {@code (cols)}; must not overlap {@code src}
     * @param accumulate whether to add to {@code dst} rather than overwrite it
     */
    protected abstract void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate);

    /**
     * Runs {@link Backend#sgdUpdate} once validated: equal, non-zero lengths, disjoint buffers, a learning rate finite
     * in the precision.
     *
     * @param params       the parameters, updated in place
     * @param grads        their gradients; must not overlap {@code params}
     * @param learningRate the step size (rounded to the precision)
     */
    protected abstract void doSgdUpdate(Buffer params, Buffer grads, double learningRate);

    /**
     * Runs {@link Backend#crossEntropyForward} once validated: positive sizes ({@code classes} exact in the precision),
     * {@code logits (rows, classes)}, {@code targets (rows)}, {@code loss} of {@code rows} or one element and disjoint
     * from the inputs. The target values themselves are not checked here: that is the implementation's part (see the
     * class comment of {@link Backend}).
     *
     * @param rows    the number of rows (samples), positive
     * @param classes the number of classes, positive; at most {@link #MAX_INDEX_RANGE_FLOAT32} in float32
     * @param logits  the unnormalised scores, {@code (rows, classes)}
     * @param targets the target class of each row, {@code (rows)}, integer values in {@code [0, classes)}
     * @param loss    the per-row losses {@code (rows)}, or their mean {@code (1)} when {@code mean}, written
     * @param mean    whether to write the mean over the rows instead of one loss per row
     */
    protected abstract void doCrossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                                  boolean mean);

    /**
     * Runs {@link Backend#crossEntropyBackward} once validated: as {@link #doCrossEntropyForward}, with {@code scale}
     * finite in the precision and {@code dLogits (rows, classes)} disjoint from the inputs.
     *
     * @param rows    the number of rows (samples), positive
     * @param classes the number of classes, positive
     * @param logits  the forward's scores, {@code (rows, classes)}
     * @param targets the target class of each row, {@code (rows)}, as in the forward
     * @param scale   the gradient reaching each row's loss: {@code 1 / rows} for the mean, 1 for the sum
     * @param dLogits the gradient of the scores, {@code (rows, classes)}, written
     */
    protected abstract void doCrossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                                   Buffer dLogits);

    /**
     * Runs {@link Backend#mseForward} once validated: equal lengths, a one-element {@code loss} disjoint from both
     * inputs.
     *
     * @param pred   the predictions, {@code n} elements
     * @param target the targets, {@code n} elements
     * @param loss   the mean, one element, written
     */
    protected abstract void doMseForward(Buffer pred, Buffer target, Buffer loss);

    /**
     * Runs {@link Backend#mseBackward} once validated: equal lengths, {@code scale} finite in the precision,
     * {@code dPred} {@code pred} itself or disjoint from it, and disjoint from {@code target}.
     *
     * @param pred   the predictions
     * @param target the targets, as many as {@code pred}
     * @param scale  the factor of the difference: {@code 2 / n} for the mean
     * @param dPred  the gradient of the predictions, written
     */
    protected abstract void doMseBackward(Buffer pred, Buffer target, double scale, Buffer dPred);

    /**
     * Runs {@link Backend#embeddingForward} once validated: positive sizes ({@code vocab} exact in the precision),
     * {@code table (vocab, dim)}, {@code out (n, dim)} disjoint from the inputs. The index values are the
     * implementation's to check.
     *
     * @param vocab   the number of rows of the table, positive; at most {@link #MAX_INDEX_RANGE_FLOAT32} in float32
     * @param dim     the embedding width, positive
     * @param table   the embedding table, {@code (vocab, dim)}
     * @param indices the rows to gather, {@code (n)}, integer values in {@code [0, vocab)}
     * @param out     the gathered rows, {@code (n, dim)}, written
     */
    protected abstract void doEmbeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out);

    /**
     * Runs {@link Backend#embeddingBackward} once validated: positive sizes ({@code vocab} exact in the precision),
     * {@code dOut (n, dim)}, {@code dTable (vocab, dim)} disjoint from the inputs. The index values are the
     * implementation's to check.
     *
     * @param vocab      the number of rows of the table, positive
     * @param dim        the embedding width, positive
     * @param indices    the rows the forward gathered, {@code (n)}
     * @param dOut       the gradient of the forward's output, {@code (n, dim)}
     * @param dTable     the gradient of the table, {@code (vocab, dim)}
     * @param accumulate whether to add to {@code dTable} rather than start from zero
     */
    protected abstract void doEmbeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable,
                                                boolean accumulate);

    /**
     * Runs {@link Backend#biasAdd} once validated: positive sizes, {@code x, y (rows, cols)}, {@code bias (cols)};
     * {@code y} is {@code x} or disjoint from it, and disjoint from {@code bias}.
     *
     * @param rows the number of rows, positive
     * @param cols the number of columns, positive
     * @param x    the input, {@code (rows, cols)}
     * @param bias the bias, {@code (cols)}
     * @param y    the output, {@code (rows, cols)}, written
     */
    protected abstract void doBiasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y);

    /**
     * Runs {@link Backend#dropoutForward} once validated: {@code p} in {@code [0, 1)}, equal lengths, {@code y}
     * {@code x} itself or disjoint from it, {@code mask} disjoint from both.
     *
     * @param x      the input
     * @param p      the probability of dropping an element, in {@code [0, 1)}
     * @param seed   the Philox key, fixed for a run
     * @param offset the first Philox counter of this call, advanced by {@code ceil(n / 4)} per call
     * @param mask   the kept elements' scale or 0, written (the workspace of {@link #dropoutBackward})
     * @param y      the output
     */
    protected abstract void doDropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y);

    /**
     * Runs {@link Backend#dropoutBackward} once validated: equal lengths, {@code dx} {@code dy} itself or disjoint from
     * it, and disjoint from {@code mask}.
     *
     * @param dy   the gradient reaching the forward's output
     * @param mask the forward's mask
     * @param dx   the gradient of the forward's input, written
     */
    protected abstract void doDropoutBackward(Buffer dy, Buffer mask, Buffer dx);

    /**
     * Runs {@link Backend#l2Norm} once validated: a one-element {@code norm} disjoint from {@code x}. Must sum in the
     * order the class comment of {@link Backend} defines.
     *
     * @param x    the values
     * @param norm their L2 norm, one element, written
     */
    protected abstract void doL2Norm(Buffer x, Buffer norm);

    /**
     * Runs {@link Backend#clipCoefficient} once validated: one-element buffers, the same or disjoint, and
     * {@code maxNorm} finite in the precision and not negative.
     *
     * @param norm    the gradient norm, one element (as {@link #l2Norm} writes it)
     * @param maxNorm the largest norm allowed, finite, not negative
     * @param coef    the factor to scale the gradients by, one element, written
     */
    protected abstract void doClipCoefficient(Buffer norm, double maxNorm, Buffer coef);

    /**
     * Runs {@link Backend#scaleBy} once validated: a one-element {@code factor} disjoint from {@code x}.
     *
     * @param x      the values, scaled in place
     * @param factor the factor, one element (as {@link #clipCoefficient} writes it)
     */
    protected abstract void doScaleBy(Buffer x, Buffer factor);

    /**
     * Runs {@link Backend#adamUpdate} once validated: equal lengths but the one-element {@code step}, no two buffers
     * overlapping, the betas in {@code [0, 1)}, the other hyperparameters finite and not negative.
     *
     * @param params      the parameters, updated in place
     * @param grads       their gradients (read only)
     * @param expAvg      the first moment {@code m}, updated
     * @param expAvgSq    the second moment {@code v}, updated
     * @param step        the step count, one element, incremented
     * @param lr          the learning rate
     * @param beta1       the decay of the first moment, in {@code [0, 1)}
     * @param beta2       the decay of the second moment, in {@code [0, 1)}
     * @param eps         the term added to the denominator
     * @param weightDecay the L2 penalty added to the gradient, 0 for none
     */
    protected abstract void doAdamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step,
                                         double lr, double beta1, double beta2, double eps, double weightDecay);

    /**
     * Runs {@link Backend#sgdMomentumUpdate} once validated: equal lengths but the one-element {@code step}, no two
     * buffers overlapping, the hyperparameters finite and not negative.
     *
     * @param params         the parameters, updated in place
     * @param grads          their gradients (read only)
     * @param momentumBuffer the momentum buffer {@code buf}, updated
     * @param step           the step count, one element, incremented
     * @param lr             the learning rate
     * @param momentum       the momentum factor, 0 for plain SGD
     * @param weightDecay    the L2 penalty added to the gradient, 0 for none
     */
    protected abstract void doSgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step,
                                                double lr, double momentum, double weightDecay);

    /** Waits for every operation issued so far, as {@link Backend#synchronize}; called open and not recording. */
    protected abstract void doSynchronize();

    /**
     * Records what {@code body} issues; the default (for backends without graphs) runs {@code body} once with every
     * operation validated but not run, then replays by running {@code body}.
     * Called with recording guarded: uploads, downloads, synchronizing and allocating throw meanwhile.
     *
     * @param body issues the operations to record (not null)
     * @return the replay; {@link #close()} closes it with the backend
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
        checkUpload(src == null ? -1 : src.length, srcOffset, dst);
        if (dst.length() > 0) {
            doUpload(src, srcOffset, dst);
        }
    }

    @Override
    public final void uploadFloats(float[] src, int srcOffset, Buffer dst) {
        checkUpload(src == null ? -1 : src.length, srcOffset, dst);
        if (dst.length() > 0) {
            doUploadFloats(src, srcOffset, dst);
        }
    }

    @Override
    public final void downloadFloats(Buffer src, float[] dst, int dstOffset) {
        checkDownload(src, dst == null ? -1 : dst.length, dstOffset);
        if (src.length() > 0) {
            doDownloadFloats(src, dst, dstOffset);
        }
    }

    /**
     * The checks of every upload: {@code dst} open and this backend's, no recording, a source of {@code srcLength}
     * values ({@code -1}: null) long enough from {@code srcOffset}.
     */
    private void checkUpload(int srcLength, int srcOffset, Buffer dst) {
        check(dst, "dst");
        notRecording("upload");
        if (srcLength < 0) {
            throw new IllegalArgumentException("src must not be null");
        }
        if (srcOffset < 0 || srcOffset > srcLength - dst.length()) {
            throw new IllegalArgumentException("src holds " + srcLength + " values; cannot read " + dst.length()
                    + " from offset " + srcOffset);
        }
    }

    /** The checks of every download, as {@link #checkUpload} the other way ({@code dstLength -1}: null). */
    private void checkDownload(Buffer src, int dstLength, int dstOffset) {
        check(src, "src");
        notRecording("download");
        if (dstLength < 0) {
            throw new IllegalArgumentException("dst must not be null");
        }
        if (dstOffset < 0 || dstOffset > dstLength - src.length()) {
            throw new IllegalArgumentException("dst holds " + dstLength + " values; cannot write " + src.length()
                    + " at offset " + dstOffset);
        }
    }

    /**
     * {@link #uploadFloats}, after the checks ({@code dst} open, this backend's, not empty; {@code src} long enough).
     * This default widens into a temporary {@code double[]} and calls {@link #doUpload}; a backend that holds
     * {@code float}s overrides it to copy directly.
     *
     * @param src       the values
     * @param srcOffset where in {@code src} to start
     * @param dst       the buffer to fill
     */
    protected void doUploadFloats(float[] src, int srcOffset, Buffer dst) {
        double[] wide = new double[dst.length()];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = src[srcOffset + i];
        }
        doUpload(wide, 0, dst);
    }

    /**
     * {@link #downloadFloats}, after the checks ({@code src} open, this backend's, not empty; {@code dst} long
     * enough). This default goes through a temporary {@code double[]}; a backend that holds {@code float}s overrides
     * it to copy directly.
     *
     * @param src       the buffer to read
     * @param dst       the array to fill
     * @param dstOffset where in {@code dst} to start
     */
    protected void doDownloadFloats(Buffer src, float[] dst, int dstOffset) {
        double[] wide = new double[src.length()];
        doDownload(src, wide, 0);
        for (int i = 0; i < wide.length; i++) {
            dst[dstOffset + i] = (float) wide[i];
        }
    }

    @Override
    public final void download(Buffer src, double[] dst, int dstOffset) {
        checkDownload(src, dst == null ? -1 : dst.length, dstOffset);
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
     *
     * @return the bytes of every open root buffer of this backend
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

    /**
     * Whether {@link #close()} has been called.
     *
     * @return true once closed
     */
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

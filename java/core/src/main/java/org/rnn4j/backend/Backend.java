package org.rnn4j.backend;

/**
 * The operations rnn4j's networks are written against. A backend owns its buffers (which may live in device memory),
 * moves data between them and the host, and runs the numerical operations below; the CPU backend is the reference
 * implementation and the fallback, and every other backend must agree with it.
 *
 * <h2>Conventions, defined once here</h2>
 * <ul>
 *   <li><b>Row-major.</b> A matrix of {@code r} rows and {@code c} columns with leading dimension {@code ld >= c} keeps
 *       element {@code (i, j)} at index {@code i * ld + j} of its buffer. Every activation buffer has the batch as its
 *       outer dimension: a per-step activation is {@code (B, N)}, a sequence of them {@code (T, B, N)}.</li>
 *   <li><b>LSTM gates</b> are laid out as four blocks of {@code H} in the order of {@link GateLayout}:
 *       {@code [i | f | g | o]}, the order PyTorch and cuDNN use. Pre-activations and gates are {@code (B, 4H)}; the
 *       weights are {@code (4H, X + H)}, one row per gate unit, its columns the concatenation {@code [x, h]}.</li>
 *   <li><b>Gradients are derivatives of the loss</b> ({@code dL/dθ}), and {@link #sgdUpdate} subtracts them.</li>
 *   <li><b>Asynchrony.</b> An operation may return before its work is done (a GPU backend queues it on a stream).
 *       Operations run in the order they are issued. {@link #download} waits for all earlier work; {@link #upload}
 *       reads the host array before it returns, so the caller may reuse it at once. The CPU backend runs everything
 *       synchronously.</li>
 *   <li><b>Aliasing.</b> Unless an operation says otherwise, its output buffers must not overlap its inputs or each
 *       other. The elementwise operations that allow in-place use say so.</li>
 *   <li><b>Validation.</b> Sizes and buffer lengths are checked before any work is issued; a wrong call throws
 *       {@link IllegalArgumentException} naming the argument, a buffer of another backend or a closed one throws
 *       {@link IllegalStateException}.</li>
 *   <li><b>Integer indices</b> (class targets, embedding indices) travel in ordinary buffers of the backend's
 *       precision, as their exact integer values ({@code 3.0} for class 3): uploaded with {@link #upload} like any
 *       data, and exact in float32 up to {@code 2^24}, which is why a vocabulary or class count above
 *       {@link #MAX_INDEX_RANGE_FLOAT32} is refused in float32. The CPU backend checks every index before it writes
 *       anything and throws {@link IllegalArgumentException} naming the argument and the position of the first bad
 *       value (not an integer, negative, or too large). A device backend cannot check values it does not download;
 *       there a bad index never touches memory outside the buffers: the row it selects is written as NaN (the loss
 *       and gradient row of a cross-entropy target, the output row of an embedding gather) or skipped (the
 *       embedding gradient), so the mistake shows in the results.</li>
 *   <li><b>Deterministic reductions.</b> The operations that reduce a whole buffer to one number ({@link #l2Norm},
 *       {@link #mseForward}, the mean of {@link #crossEntropyForward}) sum in one fixed order that depends only on
 *       the number of items {@code n}: items are cut into chunks of {@code c} consecutive items; in a chunk, lane
 *       {@code t} of {@link #REDUCE_LANES} adds items {@code t, t + 256, t + 512, ...} in ascending order from 0, then
 *       the 256 lane sums are combined pairwise ({@code lane[t] += lane[t + s]} for {@code s = 128, 64, ..., 1});
 *       the chunk sums are then reduced the same way as one chunk. {@code c} is {@code max(base,
 *       ceil(n / 65536))} rounded up to a multiple of 256, with {@code base} 4096 elements, or 256 rows for the
 *       cross-entropy mean ({@link #reduceChunk}). Every backend uses this order, so a result is the same on every
 *       run, and the CPU and a GPU agree bit for bit wherever the items themselves do.</li>
 *   <li><b>Device-held state.</b> The optimizers keep everything that changes from step to step in buffers: the
 *       step count ({@code step}, one element, the number of updates done so far, incremented by the operation) and
 *       the moments; gradient clipping reads its factor from a one-element buffer. So an iteration recorded with
 *       {@link #record} replays the optimizer unchanged. The step count is exact up to {@code 2^24} in float32.</li>
 * </ul>
 *
 * <p>Values cross the API as {@code double}: in {@link Precision#FLOAT32} they are rounded to {@code float} on upload
 * and widened exactly on download, and scalar arguments ({@code alpha}, learning rates) are rounded the same way.
 * {@link #uploadFloats}, {@link #downloadFloats} and {@link #uploadIndices} move {@code float} data and integer indices.
 *
 * <p><b>Threads.</b> A backend is not thread-safe: it and everything made on it (buffers, layers, models, losses,
 * optimizers) must be driven by one thread at a time. Use one backend per thread; two backends may run in parallel.
 * Choose and open one with {@link Device#open}.
 */
public interface Backend extends AutoCloseable {

    /** The largest class count or vocabulary a float32 backend accepts: {@code 2^24}, the end of exact integers. */
    int MAX_INDEX_RANGE_FLOAT32 = 1 << 24;

    /** Lanes of the deterministic reduction (see the class comment). */
    int REDUCE_LANES = 256;

    /** Partial sums the deterministic reduction makes at most: past {@code 65536 * base} items its chunks grow. */
    int REDUCE_MAX_CHUNKS = 65536;

    /**
     * The chunk length of the deterministic reduction of {@code n} items with the given base chunk:
     * {@code max(base, ceil(n / 65536))} rounded up to a multiple of {@link #REDUCE_LANES}.
     *
     * @param n    the number of items reduced (elements, or rows for the cross-entropy mean), not negative
     * @param base the smallest chunk: {@link #REDUCE_BASE_ELEMENTS} or {@link #REDUCE_BASE_ROWS}
     * @return the number of consecutive items each partial sum covers, a positive multiple of {@link #REDUCE_LANES}
     */
    static int reduceChunk(int n, int base) {
        long c = Math.max(base, ((long) n + REDUCE_MAX_CHUNKS - 1) / REDUCE_MAX_CHUNKS);
        return (int) ((c + REDUCE_LANES - 1) / REDUCE_LANES * REDUCE_LANES);
    }

    /** The base chunk of {@link #l2Norm} and {@link #mseForward}, in elements. */
    int REDUCE_BASE_ELEMENTS = 4096;

    /** The base chunk of the mean of {@link #crossEntropyForward}, in rows. */
    int REDUCE_BASE_ROWS = 256;

    /**
     * The backend's short name, as given to {@code --backend}.
     *
     * @return {@code cpu} or {@code cuda}
     */
    String name();

    /**
     * One line for people: what runs the operations (device, threads, GEMM path).
     *
     * @return the description, without a line break
     */
    String description();

    /**
     * The format every buffer of this backend stores and computes in, fixed when the backend is opened.
     *
     * @return the precision
     */
    Precision precision();

    /**
     * A new zero-filled buffer of {@code length} elements, owned by this backend (released with it at the latest).
     *
     * @param length the number of elements, at least 1
     * @return the new root buffer
     * @throws IllegalArgumentException when {@code length} is below 1
     * @throws IllegalStateException    when the backend is closed or recording a replay
     */
    Buffer allocate(int length);

    /**
     * Copies {@code dst.length()} values from {@code src[srcOffset ...]} into {@code dst} (rounded to {@code float} in
     * float32). {@code src} is read before the call returns, so the caller may reuse it at once.
     *
     * @param src       the values
     * @param srcOffset where in {@code src} to start
     * @param dst       the buffer to fill, entirely
     * @throws IllegalArgumentException when {@code src} is too short from {@code srcOffset}
     * @throws IllegalStateException    when {@code dst} is closed or belongs to another backend, or while recording
     */
    void upload(double[] src, int srcOffset, Buffer dst);

    /**
     * Copies {@code src.length()} values into {@code dst[dstOffset ...]}, after waiting for all earlier work (float32
     * values widen exactly).
     *
     * @param src       the buffer to read, entirely
     * @param dst       where to write
     * @param dstOffset where in {@code dst} to start
     * @throws IllegalArgumentException when {@code dst} is too short from {@code dstOffset}
     * @throws IllegalStateException    when {@code src} is closed or belongs to another backend, or while recording
     */
    void download(Buffer src, double[] dst, int dstOffset);

    /**
     * Copies {@code dst.length()} values from the start of {@code src} into {@code dst}; see
     * {@link #upload(double[], int, Buffer)}.
     *
     * @param src the values, at least {@code dst.length()} of them
     * @param dst the buffer to fill
     */
    default void upload(double[] src, Buffer dst) {
        upload(src, 0, dst);
    }

    /**
     * The buffer's values as a new array, after waiting for all earlier work; see
     * {@link #download(Buffer, double[], int)}.
     *
     * @param src the buffer to read
     * @return its {@code src.length()} values
     */
    default double[] download(Buffer src) {
        double[] out = new double[src.length()];
        download(src, out, 0);
        return out;
    }

    /**
     * Copies {@code dst.length()} {@code float} values from {@code src[srcOffset ...]} into {@code dst}, exactly in
     * both precisions (a float widens exactly to float64). The default goes through a temporary {@code double[]} and
     * {@link #upload(double[], int, Buffer)}; a backend may copy directly.
     *
     * @param src       the values
     * @param srcOffset where in {@code src} to start
     * @param dst       the buffer to fill
     * @throws IllegalArgumentException when {@code src} is null or too short
     */
    default void uploadFloats(float[] src, int srcOffset, Buffer dst) {
        if (src == null) {
            throw new IllegalArgumentException("src must not be null");
        }
        if (dst == null) {
            throw new IllegalArgumentException("dst must not be null");
        }
        if (srcOffset < 0 || srcOffset > src.length - dst.length()) {
            throw new IllegalArgumentException("src holds " + src.length + " values; cannot read " + dst.length()
                    + " from offset " + srcOffset);
        }
        double[] wide = new double[dst.length()];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = src[srcOffset + i];
        }
        upload(wide, 0, dst);
    }

    /**
     * Copies the buffer's values into {@code dst[dstOffset ...]} as {@code float}, after waiting for all earlier work:
     * exact in float32, rounded to nearest in float64. The default goes through {@link #download(Buffer)}.
     *
     * @param src       the buffer to read
     * @param dst       where to write
     * @param dstOffset where in {@code dst} to start
     * @throws IllegalArgumentException when {@code dst} is null or too short
     */
    default void downloadFloats(Buffer src, float[] dst, int dstOffset) {
        if (src == null) {
            throw new IllegalArgumentException("src must not be null");
        }
        if (dst == null) {
            throw new IllegalArgumentException("dst must not be null");
        }
        if (dstOffset < 0 || dstOffset > dst.length - src.length()) {
            throw new IllegalArgumentException("dst holds " + dst.length + " values; cannot write " + src.length()
                    + " at offset " + dstOffset);
        }
        double[] wide = download(src);
        for (int i = 0; i < wide.length; i++) {
            dst[dstOffset + i] = (float) wide[i];
        }
    }

    /**
     * The buffer's values as a new {@code float} array; see {@link #downloadFloats(Buffer, float[], int)}.
     *
     * @param src the buffer to read
     * @return its values
     */
    default float[] downloadFloats(Buffer src) {
        if (src == null) {
            throw new IllegalArgumentException("src must not be null");
        }
        float[] out = new float[src.length()];
        downloadFloats(src, out, 0);
        return out;
    }

    /**
     * Uploads {@code dst.length()} integer indices (class targets, embedding indices) from {@code src[srcOffset ...]}
     * as their exact values, the form the operations take them in (see the class comment). Every index is checked
     * before anything is copied: it must lie in {@code [0, MAX_INDEX_RANGE_FLOAT32]} in float32 (where larger integers
     * are not exact) and not be negative in float64.
     *
     * @param src       the indices
     * @param srcOffset where in {@code src} to start
     * @param dst       the buffer to fill
     * @throws IllegalArgumentException when {@code src} is null or too short, or naming the first bad index
     */
    default void uploadIndices(int[] src, int srcOffset, Buffer dst) {
        if (src == null) {
            throw new IllegalArgumentException("src must not be null");
        }
        if (dst == null) {
            throw new IllegalArgumentException("dst must not be null");
        }
        if (srcOffset < 0 || srcOffset > src.length - dst.length()) {
            throw new IllegalArgumentException("src holds " + src.length + " values; cannot read " + dst.length()
                    + " from offset " + srcOffset);
        }
        long max = precision() == Precision.FLOAT32 ? MAX_INDEX_RANGE_FLOAT32 : Integer.MAX_VALUE;
        double[] exact = new double[dst.length()];
        for (int i = 0; i < exact.length; i++) {
            int v = src[srcOffset + i];
            if (v < 0 || v > max) {
                throw new IllegalArgumentException("src[" + (srcOffset + i) + "] = " + v + " is not an index"
                        + (v < 0 ? " (negative)" : " exact in " + precision() + " (above " + max + ")"));
            }
            exact[i] = v;
        }
        upload(exact, 0, dst);
    }

    /**
     * General matrix multiply, row-major: {@code C = alpha * op(A) * op(B) + beta * C}, where {@code op(A)} is
     * {@code (m, k)}, {@code op(B)} is {@code (k, n)} and {@code C} is {@code (m, n)}. {@code op(X)} is {@code X}, or its
     * transpose when the flag is set (then {@code A} is stored as {@code (k, m)}, {@code B} as {@code (n, k)}). As in
     * BLAS, when {@code beta == 0} the old contents of {@code C} are not read (so they may be anything, even NaN).
     * Dimensions may be zero only for {@code k}, which makes {@code C = beta * C}.
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
     * @throws IllegalArgumentException when a dimension or leading dimension is out of range or a buffer too short
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              double alpha, Buffer a, int lda, Buffer b, int ldb,
              double beta, Buffer c, int ldc);

    /**
     * Copies a {@code (rows, cols)} matrix between strided places: {@code dst[r * ldDst + c] = src[r * ldSrc + c]}.
     * The seed LSTM uses it to place {@code h} beside {@code x} in the next step's concatenated input {@code [x, h]}.
     *
     * @param rows  the number of rows copied, positive
     * @param cols  the number of columns copied, positive
     * @param src   the source matrix
     * @param ldSrc the leading dimension of {@code src}, at least {@code cols}
     * @param dst   the destination matrix; must not overlap {@code src}
     * @param ldDst the leading dimension of {@code dst}, at least {@code cols}
     */
    void copyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst);

    /**
     * The logistic sigmoid, {@code y = 1 / (1 + exp(-x))}, elementwise over equal lengths; {@code y} may be {@code x}.
     *
     * @param x the input
     * @param y the output
     */
    void sigmoidForward(Buffer x, Buffer y);

    /**
     * The delta through a sigmoid from its output: {@code dx = dy * (y * (1 - y))}, elementwise over equal lengths;
     * {@code dx} may be {@code dy}.
     *
     * @param dy the gradient reaching the sigmoid's output
     * @param y  the sigmoid's output, as {@link #sigmoidForward} wrote it
     * @param dx the gradient of its input, written
     */
    void sigmoidBackward(Buffer dy, Buffer y, Buffer dx);

    /**
     * The seed LSTM cell (nicodjimenez), forward, one step. From the gate pre-activations without bias
     * {@code preact (B, 4H)}, the bias {@code (4H)} and the previous cell state {@code sPrev (B, H)}:
     * <pre>
     *   i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)      of preact + bias, per block
     *   s = g * i + sPrev * f
     *   h = s * o                                                         (no tanh on the cell: the seed's choice)
     * </pre>
     * writing the post-activation gates to {@code gates (B, 4H)} (the workspace {@link #seedLstmCellBackward} needs),
     * and {@code s}, {@code h} {@code (B, H)}. {@code gates} may be {@code preact}.
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
    void seedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                             Buffer gates, Buffer s, Buffer h);

    /**
     * The seed LSTM cell, backward, one step. From the forward's {@code gates (B, 4H)}, {@code s} and {@code sPrev}
     * {@code (B, H)}, the total gradient reaching this step's output {@code dh (B, H)} and the cell-state gradient
     * carried from the next step {@code dsNext (B, H)}:
     * <pre>
     *   ds = o * dh + dsNext
     *   di_in = (1 - i) * i * (g * ds)        df_in = (1 - f) * f * (sPrev * ds)
     *   dg_in = (1 - g*g) * (i * ds)          do_in = (1 - o) * o * (s * dh)
     *   dsPrev = ds * f
     * </pre>
     * writing the pre-activation gradients to {@code dPreact (B, 4H)} (written, not accumulated) and the carried
     * gradient to {@code dsPrev (B, H)}, which may be {@code dsNext}.
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
    void seedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev, Buffer dh, Buffer dsNext,
                              Buffer dPreact, Buffer dsPrev);

    /**
     * The standard LSTM cell (PyTorch's {@code nn.LSTM}, cuDNN's), forward, one step. From the gate pre-activations
     * without bias {@code preact (B, 4H) = x W_ih^T + h_prev W_hh^T}, the two bias vectors {@code biasIh},
     * {@code biasHh} {@code (4H)} and the previous cell state {@code cPrev (B, H)}:
     * <pre>
     *   z = preact + biasIh + biasHh                                      (added in that order)
     *   i = sigmoid(z_i), f = sigmoid(z_f), g = tanh(z_g), o = sigmoid(z_o)   per block [i | f | g | o]
     *   c = f * cPrev + i * g
     *   h = o * tanh(c)
     * </pre>
     * writing the post-activation gates to {@code gates (B, 4H)} (the workspace {@link #standardLstmCellBackward}
     * needs), and {@code c}, {@code h} {@code (B, H)}. {@code gates} may be {@code preact} (in place).
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
    void standardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh, Buffer biasHh, Buffer cPrev,
                                 Buffer gates, Buffer c, Buffer h);

    /**
     * The standard LSTM cell, backward, one step. From the forward's {@code gates (B, 4H)}, {@code c} and {@code cPrev}
     * {@code (B, H)}, the total gradient reaching this step's output {@code dh (B, H)} and the cell-state gradient
     * carried from the next step {@code dcNext (B, H)}:
     * <pre>
     *   tc = tanh(c)
     *   dc = dh * o * (1 - tc * tc) + dcNext
     *   do_in = dh * tc * o * (1 - o)          di_in = dc * g * i * (1 - i)
     *   df_in = dc * cPrev * f * (1 - f)       dg_in = dc * i * (1 - g * g)
     *   dcPrev = dc * f
     * </pre>
     * (products evaluated left to right), writing the pre-activation gradients to {@code dPreact (B, 4H)} (written, not
     * accumulated; they are also the gradients of both biases) and the carried gradient to {@code dcPrev (B, H)},
     * which may be {@code dcNext} (in place).
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
    void standardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                  Buffer dcNext, Buffer dPreact, Buffer dcPrev);

    /**
     * Bias gradients: {@code dst[j] (+)= sum_r src[r, j]} over the rows of {@code src (rows, cols)}, summed in the order
     * {@link ColumnSums} defines (row order within chunks of rows that depend on the sizes only, the same on every
     * backend); accumulates into {@code dst (cols)} when {@code accumulate}, else overwrites it.
     *
     * @param rows       the number of rows summed, positive
     * @param cols       the number of columns, positive
     * @param src        the matrix {@code (rows, cols)}, contiguous
     * @param dst        the column sums {@code (cols)}; must not overlap {@code src}
     * @param accumulate whether to add to {@code dst} rather than overwrite it
     */
    void sumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate);

    /**
     * Plain SGD: {@code params -= learningRate * grads}, elementwise over equal lengths.
     *
     * @param params       the parameters, updated in place
     * @param grads        their gradients; must not overlap {@code params}
     * @param learningRate the step size (rounded to the precision)
     */
    void sgdUpdate(Buffer params, Buffer grads, double learningRate);

    // ---- losses ---------------------------------------------------------------------------------------------------

    /**
     * Softmax cross-entropy, forward (PyTorch's {@code cross_entropy} on {@code (rows, classes)} logits with class
     * indices, no weights, no {@code ignore_index}, no label smoothing). For each row {@code r} of
     * {@code logits (rows, classes)} and its target class {@code t = targets[r]} (an integer value in
     * {@code [0, classes)}, see the class comment), in the log-sum-exp form, safe for any finite logits:
     * <pre>
     *   m = max_j x[r, j]
     *   s = sum_j exp(x[r, j] - m)                  (j ascending)
     *   loss[r] = -((x[r, t] - m) - log(s))
     * </pre>
     * With {@code mean} false, {@code loss} holds {@code rows} elements, one per row; with {@code mean} true it holds
     * one, {@code sum_r loss[r] / rows}, the rows summed in the deterministic order of the class comment (base 256
     * rows). {@code loss} must not overlap the inputs. float32 computes {@code exp} and {@code log} in double and rounds
     * each once, as the activations.
     *
     * @param rows    the number of rows (samples), positive
     * @param classes the number of classes, positive; at most {@link #MAX_INDEX_RANGE_FLOAT32} in float32
     * @param logits  the unnormalised scores, {@code (rows, classes)}
     * @param targets the target class of each row, {@code (rows)}, integer values in {@code [0, classes)}
     * @param loss    the per-row losses {@code (rows)}, or their mean {@code (1)} when {@code mean}, written
     * @param mean    whether to write the mean over the rows instead of one loss per row
     * @throws IllegalArgumentException when a size or length is wrong, or (on the CPU) naming the first bad target
     */
    void crossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss, boolean mean);

    /**
     * Softmax cross-entropy, backward: for each row, with {@code m} and {@code s} as in {@link #crossEntropyForward},
     * <pre>
     *   dLogits[r, j] = (exp(x[r, j] - m) / s - (j == t ? 1 : 0)) * scale
     * </pre>
     * {@code scale} is the gradient reaching each row's loss: {@code 1 / rows} for the mean (PyTorch's
     * {@code reduction='mean'}), 1 for the sum; it is rounded to the precision. {@code dLogits (rows, classes)} is
     * written, not accumulated, and must not overlap the inputs.
     *
     * @param rows    the number of rows (samples), positive
     * @param classes the number of classes, positive
     * @param logits  the forward's scores, {@code (rows, classes)}
     * @param targets the target class of each row, {@code (rows)}, as in the forward
     * @param scale   the gradient reaching each row's loss: {@code 1 / rows} for the mean, 1 for the sum
     * @param dLogits the gradient of the scores, {@code (rows, classes)}, written
     * @throws IllegalArgumentException when a size or length is wrong, or (on the CPU) naming the first bad target
     */
    void crossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale, Buffer dLogits);

    /**
     * Mean squared error, forward (PyTorch's {@code mse_loss}, mean reduction): {@code loss[0] = sum_i (pred[i] -
     * target[i])^2 / n} over the {@code n} elements of {@code pred} and {@code target} (equal lengths), summed in the
     * deterministic order of the class comment. {@code loss} holds one element and overlaps neither input.
     *
     * @param pred   the predictions, {@code n} elements
     * @param target the targets, {@code n} elements
     * @param loss   the mean, one element, written
     */
    void mseForward(Buffer pred, Buffer target, Buffer loss);

    /**
     * Mean squared error, backward: {@code dPred[i] = (pred[i] - target[i]) * scale}, elementwise over equal lengths,
     * written. PyTorch's gradient of {@code mse_loss} (mean) is {@code scale = 2 / n}; {@code scale = 2} gives the
     * sum's. {@code scale} is rounded to the precision. {@code dPred} may be {@code pred} itself (in place), and must
     * not overlap {@code target}.
     *
     * @param pred   the predictions
     * @param target the targets, as many as {@code pred}
     * @param scale  the factor of the difference: {@code 2 / n} for the mean
     * @param dPred  the gradient of the predictions, written
     */
    void mseBackward(Buffer pred, Buffer target, double scale, Buffer dPred);

    // ---- layers -----------------------------------------------------------------------------------------------------

    /**
     * Embedding lookup: {@code out[i, :] = table[indices[i], :]} for the {@code n = indices.length()} indices, with
     * {@code table (vocab, dim)} and {@code out (n, dim)}. Indices are integer values in {@code [0, vocab)} (class
     * comment). {@code out} must not overlap {@code table} or {@code indices}.
     *
     * @param vocab   the number of rows of the table, positive; at most {@link #MAX_INDEX_RANGE_FLOAT32} in float32
     * @param dim     the embedding width, positive
     * @param table   the embedding table, {@code (vocab, dim)}
     * @param indices the rows to gather, {@code (n)}, integer values in {@code [0, vocab)}
     * @param out     the gathered rows, {@code (n, dim)}, written
     * @throws IllegalArgumentException when a size or length is wrong, or (on the CPU) naming the first bad index
     */
    void embeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out);

    /**
     * Embedding gradient, the scatter-add of {@link #embeddingForward}: for {@code i} ascending,
     * {@code dTable[indices[i], :] += dOut[i, :]}, starting from {@code dTable (vocab, dim)} as it is when
     * {@code accumulate}, else from zero; rows no index selects are left as they are (zero without
     * {@code accumulate}). Deterministic: every element of {@code dTable} sums its contributions in ascending
     * {@code i} on every backend (no atomics), so the CPU and a GPU agree bit for bit. {@code dOut} is
     * {@code (n, dim)} with {@code n = indices.length()}; {@code dTable} must not overlap the inputs.
     *
     * @param vocab      the number of rows of the table, positive
     * @param dim        the embedding width, positive
     * @param indices    the rows the forward gathered, {@code (n)}
     * @param dOut       the gradient of the forward's output, {@code (n, dim)}
     * @param dTable     the gradient of the table, {@code (vocab, dim)}
     * @param accumulate whether to add to {@code dTable} rather than start from zero
     * @throws IllegalArgumentException when a size or length is wrong, or (on the CPU) naming the first bad index
     */
    void embeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable, boolean accumulate);

    /**
     * Bias add, broadcast over rows: {@code y[r, c] = x[r, c] + bias[c]} for {@code x, y (rows, cols)} and
     * {@code bias (cols)}. {@code y} may be {@code x} (in place) and must not overlap {@code bias}. Its backward for
     * the bias is {@link #sumRows}; for {@code x} it is the identity.
     *
     * @param rows the number of rows, positive
     * @param cols the number of columns, positive
     * @param x    the input, {@code (rows, cols)}
     * @param bias the bias, {@code (cols)}
     * @param y    the output, {@code (rows, cols)}, written
     */
    void biasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y);

    /**
     * Dropout, forward (PyTorch's {@code dropout} in training): every element is kept with probability {@code 1 - p}
     * and scaled by {@code 1 / (1 - p)}, or zeroed: {@code mask[i] = keep ? scale : 0}, {@code y[i] = x[i] * mask[i]},
     * with {@code scale = 1 / (1 - p)} rounded to the precision ({@code 1 / (float) (1 - p)} in float32). The
     * decision is a counter-based draw, Philox 4x32-10 (Random123), the same on every backend: element {@code i}
     * uses word {@code i % 4} of Philox({@code counter = [lo, hi, 0, 0]} of the 64-bit {@code offset + i / 4},
     * {@code key = [lo, hi]} of {@code seed}), and is dropped when that word, unsigned, is below
     * {@code floor(p * 2^32)}. So a call draws {@code ceil(n / 4)} counters; the next call of a run takes fresh bits
     * with {@code offset} advanced by that much. {@code p} lies in {@code [0, 1)}. {@code x}, {@code mask} and
     * {@code y} have equal lengths; {@code y} may be {@code x}; {@code mask} overlaps neither. Recorded with
     * {@link #record}, the call replays with the seed and offset it was recorded with (the same mask).
     *
     * @param x      the input
     * @param p      the probability of dropping an element, in {@code [0, 1)}
     * @param seed   the Philox key, fixed for a run
     * @param offset the first Philox counter of this call, advanced by {@code ceil(n / 4)} per call
     * @param mask   the kept elements' scale or 0, written (the workspace of {@link #dropoutBackward})
     * @param y      the output
     * @throws IllegalArgumentException when {@code p} is outside {@code [0, 1)} or the lengths differ
     */
    void dropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y);

    /**
     * Dropout, backward: {@code dx[i] = dy[i] * mask[i]} with the forward's {@code mask}, over equal lengths; {@code dx}
     * may be {@code dy} and must not overlap {@code mask}.
     *
     * @param dy   the gradient reaching the forward's output
     * @param mask the forward's mask
     * @param dx   the gradient of the forward's input, written
     */
    void dropoutBackward(Buffer dy, Buffer mask, Buffer dx);

    // ---- gradients and optimizers ------------------------------------------------------------------------------------

    /**
     * The L2 norm of a whole buffer, {@code norm[0] = sqrt(sum_i x[i]^2)}, summed in the deterministic order of the
     * class comment (so the same on every run, on every backend), into a one-element buffer that stays on the
     * device. {@code norm} must not overlap {@code x}.
     *
     * @param x    the values
     * @param norm their L2 norm, one element, written
     */
    void l2Norm(Buffer x, Buffer norm);

    /**
     * The clipping factor of PyTorch's {@code clip_grad_norm_}, computed on the device from a norm there:
     * {@code coef[0] = min(1, maxNorm / (norm[0] + 1e-6))}, evaluated as PyTorch evaluates the Python expression
     * {@code max_norm / tensor}, a reciprocal then a product: {@code c = (1 / (norm[0] + 1e-6)) * maxNorm}, then
     * {@code coef[0] = c > 1 ? 1 : c} (a NaN norm gives NaN, as {@code torch.clamp}); in the precision
     * ({@code maxNorm} and {@code 1e-6} rounded to it). {@code norm} and {@code coef} hold one element each and may be
     * the same buffer. {@code maxNorm} must be finite and not negative.
     *
     * @param norm    the gradient norm, one element (as {@link #l2Norm} writes it)
     * @param maxNorm the largest norm allowed, finite, not negative
     * @param coef    the factor to scale the gradients by, one element, written
     * @throws IllegalArgumentException when {@code maxNorm} is negative or not finite
     */
    void clipCoefficient(Buffer norm, double maxNorm, Buffer coef);

    /**
     * Scales a buffer in place by a factor held on the device: {@code x[i] = x[i] * factor[0]} (the multiplication
     * {@code clip_grad_norm_} applies to every gradient). {@code factor} holds one element and must not overlap
     * {@code x}.
     *
     * @param x      the values, scaled in place
     * @param factor the factor, one element (as {@link #clipCoefficient} writes it)
     */
    void scaleBy(Buffer x, Buffer factor);

    /**
     * One step of Adam, PyTorch's {@code torch.optim.Adam} ({@code amsgrad=False, maximize=False}; the single-tensor
     * arithmetic of {@code _single_tensor_adam}), elementwise over the equal lengths of {@code params},
     * {@code grads}, {@code expAvg} ({@code m}) and {@code expAvgSq} ({@code v}), which start at zero:
     * <pre>
     *   step[0] += 1;  t = step[0]                                   (once per call, before the update)
     *   bc1 = 1 - beta1^t,  bc2 = 1 - beta2^t,  stepSize = lr / bc1,  bc2Sqrt = sqrt(bc2)   (in double)
     *   g = grad + weightDecay * p                                   (only when weightDecay != 0)
     *   m = w &lt; 0.5 ? m + w * (g - m) : g - (g - m) * (1 - w)     with w = 1 - beta1 (torch.lerp)
     *   v = v * beta2 + ((1 - beta2) * g) * g
     *   p = p + (-stepSize * m) / (sqrt(v) / bc2Sqrt + eps)
     * </pre>
     * In float32 the per-step scalars are computed in double, as PyTorch computes them in Python, and rounded once
     * ({@code stepSize}, {@code bc2Sqrt}, {@code w}, {@code 1 - beta2}, the hyperparameters); the per-element
     * arithmetic is in float. {@code step} is the one-element count kept on the device (see the class comment).
     * Every buffer is distinct and disjoint from the others. {@code lr}, {@code eps} and {@code weightDecay} are
     * finite and not negative; the betas lie in {@code [0, 1)}.
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
     * @throws IllegalArgumentException when a hyperparameter is out of range or the lengths differ
     */
    void adamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step, double lr, double beta1,
                    double beta2, double eps, double weightDecay);

    /**
     * One step of SGD with momentum, PyTorch's {@code torch.optim.SGD} ({@code dampening=0, nesterov=False}),
     * elementwise over the equal lengths of {@code params}, {@code grads} and {@code momentumBuffer}:
     * <pre>
     *   g = grad + weightDecay * p                 (only when weightDecay != 0)
     *   buf = step[0] == 0 ? g : buf * momentum + g
     *   p = p + (-lr) * buf                        (the same number as p - lr * buf)
     *   step[0] += 1
     * </pre>
     * {@code momentum = 0} is plain SGD (with weight decay): the buffer then just holds {@code g}. {@code step} is the
     * one-element count kept on the device. Every buffer is distinct and disjoint from the others; {@code lr},
     * {@code momentum} and {@code weightDecay} are finite and not negative.
     *
     * @param params         the parameters, updated in place
     * @param grads          their gradients (read only)
     * @param momentumBuffer the momentum buffer {@code buf}, updated
     * @param step           the step count, one element, incremented
     * @param lr             the learning rate
     * @param momentum       the momentum factor, 0 for plain SGD
     * @param weightDecay    the L2 penalty added to the gradient, 0 for none
     * @throws IllegalArgumentException when a hyperparameter is out of range or the lengths differ
     */
    void sgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step, double lr,
                           double momentum, double weightDecay);

    /** Waits until every operation issued so far has finished (for timing). */
    void synchronize();

    /**
     * A recorded sequence of operations, replayed as one unit. On CUDA it is a CUDA graph: the kernels and GEMMs
     * {@code body} issued, captured once and launched together by {@link #replay()}, which saves the per-launch cost
     * of small operations. Replaying re-reads the buffers, so new data uploaded into them between replays is used.
     */
    interface Replay extends AutoCloseable {
        /** Issues the recorded operations again, in order, after everything issued before. */
        void replay();

        /**
         * Whether the backend really recorded (a CUDA graph), as opposed to replaying by calling the body again.
         *
         * @return true for a recorded graph
         */
        boolean recorded();

        /** Releases the recording (a CUDA graph and its executable instance). Idempotent. */
        @Override
        void close();
    }

    /**
     * Records the operations {@code body} issues, without running them, for {@link Replay#replay()}. While recording,
     * {@code body} may only issue operations: uploading, downloading, synchronizing, allocating, or closing a buffer or
     * the backend throws {@link IllegalStateException} (none can be part of a graph). A backend that cannot record (the CPU) checks
     * {@code body} once the same way, its operations validated but not run, and returns a replay that calls
     * {@code body} again each time, which computes the same thing. The replay is closed with the
     * backend at the latest.
     *
     * @param body issues the operations to record; it runs once now (recorded, or validated on the CPU)
     * @return the replay, to close when no longer needed
     * @throws IllegalArgumentException when {@code body} is null
     * @throws IllegalStateException    when the backend is closed or already recording, or when {@code body} does
     *                                  something other than issue operations
     */
    Replay record(Runnable body);

    /**
     * Bytes of device memory still free for this backend's buffers, where they live in device memory (a GPU: the
     * device's free memory now); empty where they live on the Java heap (the CPU), whose room is
     * {@code Runtime.maxMemory()} less what is in use. For estimates before allocating (docs/memory.md).
     *
     * @return the free bytes of device memory, or empty for a backend on the Java heap
     */
    default java.util.OptionalLong deviceFreeBytes() {
        return java.util.OptionalLong.empty();
    }

    /** Releases every buffer this backend still holds and the backend itself. Idempotent. */
    @Override
    void close();
}

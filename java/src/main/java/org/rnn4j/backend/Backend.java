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
 * </ul>
 *
 * <p>Values cross the API as {@code double}: in {@link Precision#FLOAT32} they are rounded to {@code float} on upload
 * and widened exactly on download, and scalar arguments ({@code alpha}, learning rates) are rounded the same way.
 */
public interface Backend extends AutoCloseable {

    /** Short name, as given to {@code --backend}: {@code cpu}, {@code cuda}. */
    String name();

    /** One line for people: what runs the operations (device, threads, GEMM path). */
    String description();

    Precision precision();

    /** A new zero-filled buffer of {@code length} elements. */
    Buffer allocate(int length);

    /** Copies {@code dst.length()} values from {@code src[srcOffset ...]} into {@code dst}. */
    void upload(double[] src, int srcOffset, Buffer dst);

    /** Copies {@code src.length()} values into {@code dst[dstOffset ...]}, after waiting for all earlier work. */
    void download(Buffer src, double[] dst, int dstOffset);

    default void upload(double[] src, Buffer dst) {
        upload(src, 0, dst);
    }

    default double[] download(Buffer src) {
        double[] out = new double[src.length()];
        download(src, out, 0);
        return out;
    }

    /**
     * General matrix multiply, row-major: {@code C = alpha * op(A) * op(B) + beta * C}, where {@code op(A)} is
     * {@code (m, k)}, {@code op(B)} is {@code (k, n)} and {@code C} is {@code (m, n)}. {@code op(X)} is {@code X}, or its
     * transpose when the flag is set (then {@code A} is stored as {@code (k, m)}, {@code B} as {@code (n, k)}). As in
     * BLAS, when {@code beta == 0} the old contents of {@code C} are not read (so they may be anything, even NaN).
     * Dimensions may be zero only for {@code k}, which makes {@code C = beta * C}.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              double alpha, Buffer a, int lda, Buffer b, int ldb,
              double beta, Buffer c, int ldc);

    /**
     * Copies a {@code (rows, cols)} matrix between strided places: {@code dst[r * ldDst + c] = src[r * ldSrc + c]}.
     * The seed LSTM uses it to place {@code h} beside {@code x} in the next step's concatenated input {@code [x, h]}.
     */
    void copyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst);

    /** {@code y = 1 / (1 + exp(-x))}, elementwise over equal lengths; {@code y} may be {@code x}. */
    void sigmoidForward(Buffer x, Buffer y);

    /**
     * The delta through a sigmoid from its output: {@code dx = dy * (y * (1 - y))}, elementwise over equal lengths;
     * {@code dx} may be {@code dy}.
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
     */
    void standardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                  Buffer dcNext, Buffer dPreact, Buffer dcPrev);

    /**
     * The binary-addition RNN's output loss, for sigmoid outputs {@code out (B, O)} against {@code target (B, O)}: writes
     * the gradient of {@code L = 1/2 * sum (out - target)^2} with respect to the output pre-activation,
     * {@code dPreact = (out - target) * (out * (1 - out))}, and adds {@code sum_o |target - out|} (the seed's reported
     * error) into {@code absErrorSum (B)}, or writes it there when {@code accumulate} is false.
     */
    void sigmoidSquaredErrorLoss(int batch, int outputs, Buffer out, Buffer target, Buffer dPreact,
                                 Buffer absErrorSum, boolean accumulate);

    /**
     * The seed LSTM's loss, squared error on the first hidden unit: for each row {@code b},
     * {@code L = (h[b, 0] - target[b])^2} is added into {@code lossSum (B)} (or written there when {@code accumulate} is
     * false), and its gradient is written to {@code dh (B, H)}: {@code 2 * (h[b, 0] - target[b])} in column 0, zero
     * elsewhere.
     */
    void seedLstmSquaredLoss(int batch, int hidden, Buffer h, Buffer target, Buffer dh, Buffer lossSum,
                             boolean accumulate);

    /**
     * Bias gradients: {@code dst[j] (+)= sum_r src[r, j]} over the rows of {@code src (rows, cols)}, summed in row order;
     * accumulates into {@code dst (cols)} when {@code accumulate}, else overwrites it.
     */
    void sumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate);

    /** Plain SGD: {@code params -= learningRate * grads}, elementwise over equal lengths. */
    void sgdUpdate(Buffer params, Buffer grads, double learningRate);

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

        /** Whether the backend really recorded (a CUDA graph), as opposed to replaying by calling the body again. */
        boolean recorded();

        @Override
        void close();
    }

    /**
     * Records the operations {@code body} issues, without running them, for {@link Replay#replay()}. While recording,
     * {@code body} may only issue operations: uploading, downloading, synchronizing or allocating throws
     * {@link IllegalStateException} (none can be part of a graph). A backend that cannot record (the CPU) checks
     * {@code body} once the same way, its operations validated but not run, and returns a replay that calls
     * {@code body} again each time, which computes the same thing. The replay is closed with the
     * backend at the latest.
     */
    Replay record(Runnable body);

    /**
     * Bytes of device memory still free for this backend's buffers, where they live in device memory (a GPU: the
     * device's free memory now); empty where they live on the Java heap (the CPU), whose room is
     * {@code Runtime.maxMemory()} less what is in use. For estimates before allocating (docs/memory.md).
     */
    default java.util.OptionalLong deviceFreeBytes() {
        return java.util.OptionalLong.empty();
    }

    /** Releases every buffer this backend still holds and the backend itself. Idempotent. */
    @Override
    void close();
}

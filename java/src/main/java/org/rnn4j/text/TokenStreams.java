package org.rnn4j.text;

import java.util.Arrays;
import java.util.Objects;

/**
 * A token sequence cut into {@code B} parallel streams and read in windows of {@code T} steps, as PyTorch's
 * word-language-model example batches its data, with the short last window dropped.
 *
 * <ul>
 *   <li>{@code L = len(tokens) // B}; stream {@code b} is {@code tokens[b*L : (b+1)*L]} (the remainder is dropped);
 *   <li>{@code W = (L - 1) // T} windows (0 when {@code L} is 0);
 *   <li>window {@code w}: inputs {@code stream[w*T : w*T+T]}, targets {@code stream[w*T+1 : w*T+T+1]} of every
 *       stream, as a time-major {@code (T, B)} batch: element {@code t*B + b} is step {@code t} of stream {@code b};
 *   <li>training update {@code s} (0-based) uses window {@code s mod W}; the recurrent state starts from zero at
 *       window 0 ({@link #isFirstWindow}) and is carried from the previous window otherwise.
 * </ul>
 *
 * Immutable; the windows are read from the tokens without copying them all.
 */
public final class TokenStreams {

    /** One window: inputs and targets, time-major {@code (T, B)}. */
    public record Batch(int[] inputs, int[] targets) {
    }

    private final int[] tokens;
    private final int batch;
    private final int seqLen;
    private final int streamLength;
    private final int windows;

    private TokenStreams(int[] tokens, int batch, int seqLen) {
        this.tokens = tokens;
        this.batch = batch;
        this.seqLen = seqLen;
        this.streamLength = tokens.length / batch;
        this.windows = streamLength == 0 ? 0 : (streamLength - 1) / seqLen;
    }

    /**
     * Cuts tokens into streams; there may be no window at all (see {@link #windowCount()}).
     *
     * @param tokens the sequence (copied)
     * @param batch {@code B}, the number of streams, at least 1
     * @param seqLen {@code T}, the steps per window, at least 1
     * @return the streams
     * @throws IllegalArgumentException naming the argument that is out of range
     */
    public static TokenStreams of(int[] tokens, int batch, int seqLen) {
        Objects.requireNonNull(tokens, "tokens");
        if (batch < 1) {
            throw new IllegalArgumentException("batch: must be at least 1, was " + batch);
        }
        if (seqLen < 1) {
            throw new IllegalArgumentException("seqLen: must be at least 1, was " + seqLen);
        }
        return new TokenStreams(tokens.clone(), batch, seqLen);
    }

    /** For {@link CharLmData}: {@code tokens} is a fresh array, not shared, and the arguments were checked. */
    static TokenStreams owning(int[] tokens, int batch, int seqLen) {
        return new TokenStreams(tokens, batch, seqLen);
    }

    /** @return {@code B}, the number of streams */
    public int batch() {
        return batch;
    }

    /** @return {@code T}, the steps per window */
    public int seqLen() {
        return seqLen;
    }

    /** @return the number of tokens cut into streams (before the remainder is dropped) */
    public int tokenCount() {
        return tokens.length;
    }

    /** @return {@code L}, the length of each stream */
    public int streamLength() {
        return streamLength;
    }

    /** @return {@code W}, the number of whole windows (may be 0) */
    public int windowCount() {
        return windows;
    }

    /**
     * The fewest tokens that give one window with this batch and window length: {@code B * (T + 1)}.
     *
     * @return the count
     */
    public long minimumTokens() {
        return (long) batch * (seqLen + 1L);
    }

    /**
     * One stream.
     *
     * @param b from 0 to {@code B - 1}
     * @return a copy of {@code tokens[b*L : (b+1)*L]}
     */
    public int[] stream(int b) {
        Objects.checkIndex(b, batch);
        return Arrays.copyOfRange(tokens, b * streamLength, (b + 1) * streamLength);
    }

    /**
     * The window a training update uses.
     *
     * @param step the update, 0-based
     * @return {@code step mod W}
     * @throws IllegalStateException when there is no window
     * @throws IllegalArgumentException when the step is negative
     */
    public int windowOfStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step: must be at least 0, was " + step);
        }
        if (windows == 0) {
            throw new IllegalStateException("there is no window: " + tokens.length + " tokens in " + batch
                    + " streams are too few for a window of " + seqLen);
        }
        return (int) (step % windows);
    }

    /**
     * Whether an update starts a pass over the data, where the recurrent state is reset to zero.
     *
     * @param step the update, 0-based
     * @return whether {@code step mod W == 0}
     */
    public boolean isFirstWindow(long step) {
        return windowOfStep(step) == 0;
    }

    /**
     * Fills a window's batch into the caller's arrays (no allocation).
     *
     * @param window from 0 to {@code W - 1}
     * @param inputs {@code T*B} ints, receives {@code stream_b[w*T + t]} at {@code t*B + b}
     * @param targets {@code T*B} ints, receives {@code stream_b[w*T + t + 1]} at {@code t*B + b}
     * @throws IndexOutOfBoundsException when there is no such window
     * @throws IllegalArgumentException when an array has not {@code T*B} elements
     */
    public void fill(int window, int[] inputs, int[] targets) {
        Objects.checkIndex(window, windows);
        int size = seqLen * batch;
        if (inputs.length != size || targets.length != size) {
            throw new IllegalArgumentException("inputs, targets: need " + size + " (seqLen * batch) elements each, "
                    + "have " + inputs.length + " and " + targets.length);
        }
        for (int b = 0; b < batch; b++) {
            int base = b * streamLength + window * seqLen;
            for (int t = 0; t < seqLen; t++) {
                inputs[t * batch + b] = tokens[base + t];
                targets[t * batch + b] = tokens[base + t + 1];
            }
        }
    }

    /**
     * A window's batch in new arrays.
     *
     * @param window from 0 to {@code W - 1}
     * @return inputs and targets, time-major
     */
    public Batch window(int window) {
        int[] inputs = new int[seqLen * batch];
        int[] targets = new int[seqLen * batch];
        fill(window, inputs, targets);
        return new Batch(inputs, targets);
    }

    /**
     * The batch of a training update: window {@code step mod W}.
     *
     * @param step the update, 0-based
     * @return inputs and targets, time-major
     */
    public Batch forStep(long step) {
        return window(windowOfStep(step));
    }
}

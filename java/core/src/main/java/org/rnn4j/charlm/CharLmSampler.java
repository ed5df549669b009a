package org.rnn4j.charlm;

import java.util.Objects;
import java.util.SplittableRandom;
import org.rnn4j.backend.Backend;
import org.rnn4j.nn.Sequential;
import org.rnn4j.text.Vocabulary;

/**
 * Generates text from a character model, one code point at a time, on the inference path: the LSTM's state stays on
 * the device between steps and nothing is ever run twice (a prime is fed once, step by step). Not thread-safe.
 *
 * <pre>{@code
 * try (CharLmSampler s = new CharLmSampler(backend, checkpoint)) {
 *     double[] logits = s.feed(s.vocabulary().indexOf('T'));
 *     int next = CharLmSampler.pick(logits, 0.8, random);
 * }
 * }</pre>
 */
public final class CharLmSampler implements AutoCloseable {

    private final Vocabulary vocabulary;
    private final Sequential model;
    private final Sequential.State state;
    private final int[] one = new int[1];

    /**
     * Builds the checkpoint's model on {@code backend} (in the backend's precision, which may differ from the
     * checkpoint's) with the checkpoint's weights, at the zero state.
     *
     * @param backend    where to run
     * @param checkpoint the model
     */
    public CharLmSampler(Backend backend, CharLmCheckpoint checkpoint) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(checkpoint, "checkpoint");
        this.vocabulary = checkpoint.vocabulary();
        CharLmSettings s = checkpoint.settings();
        this.model = s.model(vocabulary.size()).build(backend, s.seed());
        Sequential.State st = null;
        try {
            model.loadStateDict(checkpoint.model());
            st = model.state(1);
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
        this.state = st;
    }

    /** @return the model's vocabulary */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /**
     * One step: reads a token, advances the state, returns the logits for the next one.
     *
     * @param token an index in the vocabulary
     * @return the {@code V} logits (downloaded; waits for the device)
     */
    public double[] feed(int token) {
        if (token < 0 || token >= vocabulary.size()) {
            throw new IllegalArgumentException("token must be in [0, " + vocabulary.size() + "), got " + token);
        }
        one[0] = token;
        state.step(one);
        return state.downloadOutput();
    }

    /** Sets the state back to zero. */
    public void reset() {
        state.reset();
    }

    /**
     * Draws the next token from the softmax of {@code logits / temperature}, computed in double on the host; with
     * temperature 0 the most likely token (the first of equals). One {@code nextDouble()} per draw.
     *
     * @param logits      the scores
     * @param temperature finite, at least 0
     * @param random      the generator (not used for temperature 0)
     * @return the index
     */
    public static int pick(double[] logits, double temperature, SplittableRandom random) {
        if (!(temperature >= 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and at least 0, got " + temperature);
        }
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        if (temperature == 0 || !Double.isFinite(logits[best])) {
            return best;
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - logits[best]) / temperature);
            sum += p[i];
        }
        double u = random.nextDouble() * sum;
        double acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (u < acc) {
                return i;
            }
        }
        return best; // u landed on the rounding at the top end
    }

    /** Releases the model and its state. Idempotent. */
    @Override
    public void close() {
        state.close();
        model.close();
    }
}

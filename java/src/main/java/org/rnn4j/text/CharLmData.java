package org.rnn4j.text;

import java.util.Arrays;
import java.util.Objects;

/**
 * The character language model's data, prepared exactly as issue 10 specifies so that any run can be reproduced
 * outside rnn4j (tools/charlm_data.py does the same in Python):
 *
 * <ol>
 *   <li>the vocabulary is the sorted distinct code points of the whole text; each code point becomes its index;
 *   <li>{@code n_val = floor(N * val_fraction)}, the product computed in IEEE double; training data = the first
 *       {@code N - n_val} indices, validation = the rest;
 *   <li>each part is cut into {@code B} streams and windows of {@code T} by {@link TokenStreams}.
 * </ol>
 *
 * The training data must give at least one window; the validation data may give none, and then
 * {@link #validationSkipReason()} says why.
 */
public final class CharLmData {

    private final Vocabulary vocabulary;
    private final int textLength;
    private final int validationLength;
    private final double valFraction;
    private final TokenStreams training;
    private final TokenStreams validation;

    private CharLmData(Vocabulary vocabulary, int textLength, int validationLength, double valFraction,
            TokenStreams training, TokenStreams validation) {
        this.vocabulary = vocabulary;
        this.textLength = textLength;
        this.validationLength = validationLength;
        this.valFraction = valFraction;
        this.training = training;
        this.validation = validation;
    }

    /**
     * Prepares a text with the vocabulary of the text itself.
     *
     * @param text the code points ({@link TextCorpus#codePoints()})
     * @param valFraction the share of the text, at its end, kept for validation: from 0 (inclusive) to 1
     * @param batch {@code B}, at least 1
     * @param seqLen {@code T}, at least 1
     * @return the data
     * @throws TextTooShortException when the training data gives no window (the message names {@code --batch},
     *         {@code --seq-len} and {@code --val-fraction})
     * @throws IllegalArgumentException naming an argument out of range (an empty text, a fraction outside [0, 1))
     */
    public static CharLmData prepare(int[] text, double valFraction, int batch, int seqLen)
            throws TextTooShortException {
        Objects.requireNonNull(text, "text");
        return prepare(text, Vocabulary.of(text), valFraction, batch, seqLen);
    }

    /**
     * Prepares a text with a given vocabulary (a resumed run's, from its checkpoint).
     *
     * @param text the code points
     * @param vocabulary must contain every code point of the text
     * @param valFraction from 0 (inclusive) to 1
     * @param batch {@code B}, at least 1
     * @param seqLen {@code T}, at least 1
     * @return the data
     * @throws TextTooShortException when the training data gives no window
     * @throws IllegalArgumentException naming an argument out of range, or a character not in the vocabulary
     */
    public static CharLmData prepare(int[] text, Vocabulary vocabulary, double valFraction, int batch, int seqLen)
            throws TextTooShortException {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(vocabulary, "vocabulary");
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("valFraction: must be at least 0 and below 1, was " + valFraction);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch: must be at least 1, was " + batch);
        }
        if (seqLen < 1) {
            throw new IllegalArgumentException("seqLen: must be at least 1, was " + seqLen);
        }
        if (text.length == 0) {
            throw new IllegalArgumentException("text: empty");
        }
        int[] tokens = vocabulary.encode(text);
        int n = tokens.length;
        int nVal = validationCount(n, valFraction);
        int nTrain = n - nVal;
        TokenStreams training = TokenStreams.owning(Arrays.copyOfRange(tokens, 0, nTrain), batch, seqLen);
        TokenStreams validation = TokenStreams.owning(Arrays.copyOfRange(tokens, nTrain, n), batch, seqLen);
        if (training.windowCount() == 0) {
            throw new TextTooShortException("the text is too short for --batch " + batch + " and --seq-len " + seqLen
                    + ": of its " + n + " characters, " + nTrain + " are for training (--val-fraction " + valFraction
                    + " keeps " + nVal + " for validation), but " + batch + " streams of " + (seqLen + 1)
                    + " need " + training.minimumTokens() + "; lower --batch, --seq-len or --val-fraction, or give "
                    + "a longer text");
        }
        return new CharLmData(vocabulary, n, nVal, valFraction, training, validation);
    }

    /**
     * {@code n_val = floor(N * valFraction)}, the product rounded to a double first, as Python computes
     * {@code math.floor(N * val_fraction)}.
     *
     * @param n the text's length
     * @param valFraction from 0 (inclusive) to 1
     * @return the validation length
     */
    public static int validationCount(int n, double valFraction) {
        return (int) Math.floor((double) n * valFraction);
    }

    /** @return the vocabulary */
    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /** @return {@code N}, the text's length in code points */
    public int textLength() {
        return textLength;
    }

    /** @return {@code n_val}, the characters kept for validation */
    public int validationLength() {
        return validationLength;
    }

    /** @return {@code N - n_val}, the characters for training */
    public int trainingLength() {
        return textLength - validationLength;
    }

    /** @return the training streams, with at least one window */
    public TokenStreams training() {
        return training;
    }

    /** @return the validation streams, possibly with no window */
    public TokenStreams validation() {
        return validation;
    }

    /**
     * Why there is no validation, as one line to show.
     *
     * @return null when the validation data has at least one window, otherwise the reason
     */
    public String validationSkipReason() {
        if (validation.windowCount() > 0) {
            return null;
        }
        return "validation skipped: the validation data (" + validationLength + " characters, --val-fraction "
                + valFraction + ") is too short for one window of " + validation.batch() + " streams of --seq-len "
                + validation.seqLen() + " (it needs " + validation.minimumTokens() + ")";
    }
}

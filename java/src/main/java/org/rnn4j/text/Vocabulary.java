package org.rnn4j.text;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Arrays;
import java.util.Objects;
import org.rnn4j.io.CheckpointFormatException;

/**
 * The characters a model knows: the sorted distinct code points of a text, each one's index its token.
 *
 * <pre>{@code
 * Vocabulary v = Vocabulary.of(corpus.codePoints());
 * int[] tokens = v.encode(corpus.codePoints());
 * String json = v.toJson();            // "[10,32,97,...]" for checkpoint metadata
 * Vocabulary back = Vocabulary.fromJson(json);
 * }</pre>
 *
 * <p>A vocabulary holds at least one code point; every one is a Unicode scalar value (0 to U+10FFFF, not a
 * surrogate).
 */
public final class Vocabulary {

    private static final JsonFactory JSON = new JsonFactory();

    private final int[] codePoints;

    private Vocabulary(int[] sortedDistinct) {
        this.codePoints = sortedDistinct;
    }

    /**
     * The vocabulary of a text: its distinct code points, sorted.
     *
     * @param text code points
     * @return the vocabulary
     * @throws IllegalArgumentException when the text is empty or holds a value that is not a Unicode scalar value
     */
    public static Vocabulary of(int[] text) {
        Objects.requireNonNull(text, "text");
        if (text.length == 0) {
            throw new IllegalArgumentException("text: empty, so there is no vocabulary");
        }
        int[] sorted = text.clone();
        Arrays.sort(sorted);
        int n = 0;
        for (int i = 0; i < sorted.length; i++) {
            if (i == 0 || sorted[i] != sorted[i - 1]) {
                sorted[n++] = sorted[i];
            }
        }
        int[] distinct = Arrays.copyOf(sorted, n);
        String problem = problem(distinct);
        if (problem != null) {
            throw new IllegalArgumentException("text: " + problem);
        }
        return new Vocabulary(distinct);
    }

    /**
     * A vocabulary from its code points, as {@link #codePoints()} gives them.
     *
     * @param sortedDistinct code points in increasing order
     * @return the vocabulary
     * @throws IllegalArgumentException when they are empty, not increasing or not all Unicode scalar values
     */
    public static Vocabulary ofCodePoints(int[] sortedDistinct) {
        int[] copy = sortedDistinct.clone();
        String problem = problem(copy);
        if (problem != null) {
            throw new IllegalArgumentException("sortedDistinct: " + problem);
        }
        return new Vocabulary(copy);
    }

    /**
     * Reads the form {@link #toJson()} writes: a JSON array of code points, increasing.
     *
     * @param json the text, such as {@code "[10,32,97]"}
     * @return the vocabulary
     * @throws CheckpointFormatException (without a file; see {@link CheckpointFormatException#inFile}) when it is not
     *         such an array or not a valid vocabulary
     */
    public static Vocabulary fromJson(String json) throws CheckpointFormatException {
        Objects.requireNonNull(json, "json");
        int[] values = new int[16];
        int n = 0;
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_ARRAY) {
                throw new CheckpointFormatException("the vocabulary is not a JSON array of code points");
            }
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
                    throw new CheckpointFormatException("the vocabulary holds " + shorten(p.getText())
                            + ", not a code point");
                }
                if (n == values.length) {
                    values = Arrays.copyOf(values, 2 * n);
                }
                values[n++] = p.getIntValue();
            }
            if (p.nextToken() != null) {
                throw new CheckpointFormatException("the vocabulary has something after its array");
            }
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().replaceAll("\\s+", " ");
            throw new CheckpointFormatException("the vocabulary is not valid JSON: " + shorten(m));
        } catch (IOException e) {
            throw new AssertionError(e); // parsing a String does not do I/O
        }
        int[] codePoints = Arrays.copyOf(values, n);
        String problem = problem(codePoints);
        if (problem != null) {
            throw new CheckpointFormatException("the vocabulary is not valid: " + problem);
        }
        return new Vocabulary(codePoints);
    }

    /**
     * The JSON form for checkpoint metadata: the code points, in order, as a compact array such as
     * {@code [10,32,97]}.
     *
     * @return the JSON text
     */
    public String toJson() {
        StringBuilder b = new StringBuilder(codePoints.length * 4 + 2).append('[');
        for (int i = 0; i < codePoints.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(codePoints[i]);
        }
        return b.append(']').toString();
    }

    /**
     * The number of tokens.
     *
     * @return the size, at least 1
     */
    public int size() {
        return codePoints.length;
    }

    /**
     * The code point of a token.
     *
     * @param index the token, from 0 to {@code size() - 1}
     * @return its code point
     * @throws IndexOutOfBoundsException when there is no such token
     */
    public int codePoint(int index) {
        Objects.checkIndex(index, codePoints.length);
        return codePoints[index];
    }

    /**
     * The token of a code point.
     *
     * @param codePoint any int
     * @return its index, or -1 when it is not in the vocabulary
     */
    public int indexOf(int codePoint) {
        int i = Arrays.binarySearch(codePoints, codePoint);
        return i >= 0 ? i : -1;
    }

    /**
     * The code points, in order.
     *
     * @return a copy
     */
    public int[] codePoints() {
        return codePoints.clone();
    }

    /**
     * The tokens of a text.
     *
     * @param text code points
     * @return their indices
     * @throws IllegalArgumentException naming the first code point (as {@code U+XXXX}) and its position when one is
     *         not in the vocabulary
     */
    public int[] encode(int[] text) {
        int[] out = new int[text.length];
        for (int i = 0; i < text.length; i++) {
            out[i] = indexOf(text[i]);
            if (out[i] < 0) {
                throw new IllegalArgumentException("text: the character " + describe(text[i]) + " at position " + i
                        + " is not in the vocabulary");
            }
        }
        return out;
    }

    /**
     * The text of some tokens.
     *
     * @param tokens indices
     * @return the string
     * @throws IndexOutOfBoundsException when a token is not in the vocabulary
     */
    public String decode(int[] tokens) {
        StringBuilder b = new StringBuilder(tokens.length);
        for (int t : tokens) {
            b.appendCodePoint(codePoint(t));
        }
        return b.toString();
    }

    /**
     * A code point for a message: {@code U+00E9 'é'}, or {@code U+000A} alone for a control or invisible character.
     *
     * @param codePoint any int
     * @return the description
     */
    public static String describe(int codePoint) {
        if (codePoint < 0 || codePoint > Character.MAX_CODE_POINT) {
            return "invalid code point " + codePoint;
        }
        String hex = String.format("U+%04X", codePoint);
        int type = Character.getType(codePoint);
        boolean visible = !Character.isWhitespace(codePoint) && type != Character.CONTROL && type != Character.FORMAT
                && type != Character.SURROGATE && type != Character.UNASSIGNED && type != Character.LINE_SEPARATOR
                && type != Character.PARAGRAPH_SEPARATOR && type != Character.SPACE_SEPARATOR;
        return visible ? hex + " '" + new String(Character.toChars(codePoint)) + "'" : hex;
    }

    /** @return whether both hold the same code points */
    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && Arrays.equals(v.codePoints, codePoints);
    }

    /** @return a hash of the code points */
    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints);
    }

    /** @return the size, such as {@code Vocabulary(65)} */
    @Override
    public String toString() {
        return "Vocabulary(" + codePoints.length + ")";
    }

    private static String problem(int[] codePoints) {
        if (codePoints.length == 0) {
            return "it is empty";
        }
        for (int i = 0; i < codePoints.length; i++) {
            int c = codePoints[i];
            if (c < 0 || c > Character.MAX_CODE_POINT) {
                return c + " is not a code point (0 to 1114111)";
            }
            if (c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE) {
                return String.format("U+%04X is a surrogate, not a character", c);
            }
            if (i > 0 && c <= codePoints[i - 1]) {
                return "the code points are not in increasing order (" + codePoints[i - 1] + " then " + c + ")";
            }
        }
        return null;
    }

    private static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}

package org.rnn4j.charlm;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;
import org.rnn4j.text.CharLmData;
import org.rnn4j.text.TextTooShortException;

/** Small texts, settings and trained checkpoints for the character model's tests. */
public final class CharLmFixtures {

    private CharLmFixtures() {
    }

    /**
     * A deterministic text of words from a small lexicon, with some non-ASCII characters.
     *
     * @param chars about how many characters
     * @return the text
     */
    public static String text(int chars) {
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "café", "naïve", "zoë", "über",
            "to", "be", "or", "not"};
        SplittableRandom r = new SplittableRandom(7);
        StringBuilder b = new StringBuilder(chars + 16);
        while (b.length() < chars) {
            b.append(words[r.nextInt(words.length)]);
            b.append(r.nextInt(9) == 0 ? ".\n" : " ");
        }
        return b.toString();
    }

    /** @return the SHA-256 of a string's UTF-8 bytes, in hexadecimal */
    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Tiny settings.
     *
     * @param optimizer adam or sgd
     * @param clip      the clipping norm
     * @param dropout   dropout between the layers
     * @param precision the precision
     * @return the settings: 2 layers of 8, embedding 5, seq_len 7, batch 3, val_fraction 0.1, seed 11
     */
    public static CharLmSettings tiny(String optimizer, double clip, double dropout, Precision precision) {
        return new CharLmSettings(2, 8, 5, 7, 3, optimizer, optimizer.equals("adam") ? 0.01 : 0.5, clip, dropout,
                0.1, 11, precision);
    }

    /**
     * The data of a text for some settings.
     *
     * @param text     the text
     * @param settings the settings
     * @return the data
     */
    public static CharLmData data(String text, CharLmSettings settings) {
        try {
            return CharLmData.prepare(text.codePoints().toArray(), settings.valFraction(), settings.batch(),
                    settings.seqLen());
        } catch (TextTooShortException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A CPU backend.
     *
     * @param precision its precision
     * @return a new backend
     */
    public static Backend cpu(Precision precision) {
        return new CpuBackendProvider().create(precision);
    }

    /**
     * A checkpoint after some updates on the CPU.
     *
     * @param settings the settings
     * @param text     the text
     * @param steps    updates
     * @return the checkpoint
     */
    public static CharLmCheckpoint trained(CharLmSettings settings, String text, int steps) {
        try (Backend be = cpu(settings.precision());
             CharLmTrainer t = CharLmTrainer.start(be, settings, data(text, settings), sha256(text))) {
            for (int i = 0; i < steps; i++) {
                t.update();
            }
            return t.checkpoint();
        } catch (CharLmTrainer.NonFiniteException e) {
            throw new AssertionError(e);
        }
    }
}

package org.rnn4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The data pipeline of issue 10: split, streams, windows. */
class CharLmDataTest {

    private static int[] cps(String s) {
        return s.codePoints().toArray();
    }

    /** Time-major (T, B) tokens as text, row by row: "t0b0 t0b1 | t1b0 t1b1 | ...". */
    private static String rows(Vocabulary v, int[] timeMajor, int batch) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < timeMajor.length; i++) {
            b.append(i > 0 && i % batch == 0 ? "|" : "").appendCodePoint(v.codePoint(timeMajor[i]));
        }
        return b.toString();
    }

    @Test
    void aTwentyCharacterTextByHand() throws Exception {
        // N = 20; n_val = floor(20 * 0.1) = 2 ("l!"); train = "hello world, hi al" (18)
        // B = 2: L = 9, streams "hello wor" and "ld, hi al"; T = 3: W = (9 - 1) // 3 = 2
        CharLmData d = CharLmData.prepare(cps("hello world, hi all!"), 0.1, 2, 3);
        Vocabulary v = d.vocabulary();
        assertArrayEquals(cps(" !,adehilorw"), v.codePoints());
        assertEquals(20, d.textLength());
        assertEquals(2, d.validationLength());
        assertEquals(18, d.trainingLength());
        TokenStreams train = d.training();
        assertEquals(9, train.streamLength());
        assertEquals(2, train.windowCount());
        assertEquals("hello wor", v.decode(train.stream(0)));
        assertEquals("ld, hi al", v.decode(train.stream(1)));
        // ' '=0 '!'=1 ','=2 a=3 d=4 e=5 h=6 i=7 l=8 o=9 r=10 w=11
        TokenStreams.Batch w0 = train.window(0);
        assertArrayEquals(new int[] {6, 8, 5, 4, 8, 2}, w0.inputs());   // "hel", "ld,"
        assertArrayEquals(new int[] {5, 4, 8, 2, 8, 0}, w0.targets());  // "ell", "d, "
        TokenStreams.Batch w1 = train.window(1);
        assertArrayEquals(new int[] {8, 0, 9, 6, 0, 7}, w1.inputs());   // "lo ", " hi"
        assertArrayEquals(new int[] {9, 6, 0, 7, 11, 0}, w1.targets()); // "o w", "hi "
        assertEquals("hl|ed|l,", rows(v, w0.inputs(), 2));
        assertEquals("oh| i|w ", rows(v, w1.targets(), 2));
        // updates cycle through the windows; the state resets at window 0
        assertArrayEquals(w1.inputs(), train.forStep(5).inputs());
        assertArrayEquals(w0.targets(), train.forStep(4).targets());
        assertTrue(train.isFirstWindow(0));
        assertFalse(train.isFirstWindow(1));
        assertTrue(train.isFirstWindow(2));
        assertEquals(1, train.windowOfStep(3_000_000_001L));
        // validation: 2 characters in 2 streams of 1: no window
        assertEquals(0, d.validation().windowCount());
        assertEquals("validation skipped: the validation data (2 characters, --val-fraction 0.1) is too short for "
                + "one window of 2 streams of --seq-len 3 (it needs 8)", d.validationSkipReason());
    }

    @Test
    void validationIsCutTheSameWay() throws Exception {
        // N = 40, n_val = floor(40 * 0.5) = 20: validation "uvwxyz0123456789ABCD"; B = 2: L = 10, streams
        // "uvwxyz0123" and "456789ABCD"; T = 4: W = (10 - 1) // 4 = 2 (the last two characters of each are dropped)
        CharLmData d = CharLmData.prepare(cps("abcdefghijklmnopqrstuvwxyz0123456789ABCD"), 0.5, 2, 4);
        TokenStreams val = d.validation();
        Vocabulary v = d.vocabulary();
        assertEquals(20, d.validationLength());
        assertEquals(2, val.windowCount());
        assertNull(d.validationSkipReason());
        assertEquals("u4|v5|w6|x7", rows(v, val.window(0).inputs(), 2));
        assertEquals("v5|w6|x7|y8", rows(v, val.window(0).targets(), 2));
        assertEquals("y8|z9|0A|1B", rows(v, val.window(1).inputs(), 2));
        assertEquals("z9|0A|1B|2C", rows(v, val.window(1).targets(), 2));
    }

    @Test
    void theValidationLengthIsTheFloorOfAnIeeeDoubleProduct() {
        // 100 * 0.29 is 28.999999999999996 in doubles: n_val is 28, not the 29 of exact arithmetic
        assertEquals(28, CharLmData.validationCount(100, 0.29));
        assertEquals(2, CharLmData.validationCount(20, 0.1));
        assertEquals(0, CharLmData.validationCount(19, 0.05));
        assertEquals(1, CharLmData.validationCount(20, 0.05));
        assertEquals(0, CharLmData.validationCount(1000, 0));
    }

    @Test
    void tooShortATextNamesTheOptions() {
        TextTooShortException e = assertThrows(TextTooShortException.class,
                () -> CharLmData.prepare(cps("abcdefghij"), 0.1, 2, 4));
        // 10 characters, n_val 1, train 9: L = 4, W = (4 - 1) // 4 = 0
        assertEquals("the text is too short for --batch 2 and --seq-len 4: of its 10 characters, 9 are for training "
                + "(--val-fraction 0.1 keeps 1 for validation), but 2 streams of 5 need 10; lower --batch, --seq-len "
                + "or --val-fraction, or give a longer text", e.getMessage());
        // exactly B * (T + 1) training characters give one window
        assertDoesNotThrowTooShort(cps("abcdefghij"), 0.0, 2, 4);
        assertThrows(IllegalArgumentException.class, () -> CharLmData.prepare(cps("abc"), 1.0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> CharLmData.prepare(cps("abc"), Double.NaN, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> CharLmData.prepare(cps("abc"), -0.1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> CharLmData.prepare(cps("abc"), 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> CharLmData.prepare(cps("abc"), 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> CharLmData.prepare(new int[0], 0, 1, 1));
        IllegalArgumentException notInVocabulary = assertThrows(IllegalArgumentException.class,
                () -> CharLmData.prepare(cps("abz"), Vocabulary.of(cps("ab")), 0, 1, 1));
        assertTrue(notInVocabulary.getMessage().contains("U+007A 'z' at position 2"), notInVocabulary.getMessage());
    }

    private static void assertDoesNotThrowTooShort(int[] text, double f, int b, int t) {
        try {
            assertEquals(1, CharLmData.prepare(text, f, b, t).training().windowCount());
        } catch (TextTooShortException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyTargetIsTheNextCharacterOfItsStreamOnRandomTexts() throws Exception {
        Random r = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int n = 2 + r.nextInt(400);
            int[] text = new int[n];
            for (int i = 0; i < n; i++) {
                text[i] = r.nextInt(4) == 0 ? 0x1F600 + r.nextInt(3) : 'a' + r.nextInt(1 + trial % 26);
            }
            double f = r.nextInt(3) == 0 ? 0 : r.nextDouble() * 0.5;
            int batch = 1 + r.nextInt(6);
            int seqLen = 1 + r.nextInt(12);
            int nVal = (int) Math.floor(n * f);
            int nTrain = n - nVal;
            int length = nTrain / batch;
            int windows = length == 0 ? 0 : (length - 1) / seqLen;
            if (windows == 0) {
                assertThrows(TextTooShortException.class, () -> CharLmData.prepare(text, f, batch, seqLen));
                continue;
            }
            CharLmData d = CharLmData.prepare(text, f, batch, seqLen);
            Vocabulary v = d.vocabulary();
            TokenStreams train = d.training();
            assertEquals(windows, train.windowCount());
            int[] in = new int[seqLen * batch];
            int[] out = new int[seqLen * batch];
            for (int w = 0; w < windows; w++) {
                train.fill(w, in, out);
                for (int b = 0; b < batch; b++) {
                    for (int t = 0; t < seqLen; t++) {
                        int at = b * length + w * seqLen + t; // position in the text
                        assertEquals(text[at], v.codePoint(in[t * batch + b]));
                        assertEquals(text[at + 1], v.codePoint(out[t * batch + b]), "the next character");
                        if (t + 1 < seqLen) {
                            assertEquals(out[t * batch + b], in[(t + 1) * batch + b], "targets are inputs shifted");
                        }
                    }
                }
            }
            // consecutive windows continue each stream where the previous one stopped
            for (int w = 1; w < windows; w++) {
                int[] prevTargets = train.window(w - 1).targets();
                int[] inputs = train.window(w).inputs();
                for (int b = 0; b < batch; b++) {
                    assertEquals(prevTargets[(seqLen - 1) * batch + b], inputs[b]);
                }
            }
            // the validation data is the tail of the text, cut the same way
            TokenStreams val = d.validation();
            int valLength = nVal / batch;
            assertEquals(valLength, val.streamLength());
            for (int w = 0; w < val.windowCount(); w++) {
                TokenStreams.Batch bt = val.window(w);
                for (int b = 0; b < batch; b++) {
                    for (int t = 0; t < seqLen; t++) {
                        int at = nTrain + b * valLength + w * seqLen + t;
                        assertEquals(text[at], v.codePoint(bt.inputs()[t * batch + b]));
                        assertEquals(text[at + 1], v.codePoint(bt.targets()[t * batch + b]));
                    }
                }
            }
            assertEquals(val.windowCount() == 0, d.validationSkipReason() != null);
        }
    }
}

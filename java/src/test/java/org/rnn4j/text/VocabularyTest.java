package org.rnn4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.rnn4j.io.CheckpointFormatException;

/** The vocabulary: sorted distinct code points, and its checkpoint form. */
class VocabularyTest {

    private static int[] cps(String s) {
        return s.codePoints().toArray();
    }

    @Test
    void isTheSortedDistinctCodePointsOfTheText() {
        Vocabulary v = Vocabulary.of(cps("b\uFB00a\uD835\uDD38ab\r\n\uFEFF"));
        // code point order: \n \r a b U+FB00 U+FEFF U+1D538 (UTF-16 order would put U+1D538 before U+FB00)
        assertArrayEquals(new int[] {10, 13, 'a', 'b', 0xFB00, 0xFEFF, 0x1D538}, v.codePoints());
        assertEquals(7, v.size());
        assertEquals(6, v.indexOf(0x1D538));
        assertEquals(-1, v.indexOf('c'));
        assertArrayEquals(new int[] {3, 2, 6, 1, 0}, v.encode(cps("ba\uD835\uDD38\r\n")));
        assertEquals("ba\uD835\uDD38\r\n", v.decode(new int[] {3, 2, 6, 1, 0}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> v.encode(cps("abc")));
        assertEquals("text: the character U+0063 'c' at position 2 is not in the vocabulary", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(new int[] {'a', 0xD800}));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.of(new int[] {0x110000}));
    }

    @Test
    void roundTripsThroughJson() throws Exception {
        Vocabulary v = Vocabulary.of(cps("hello, \uD835\uDD38\u0000"));
        assertEquals("[0,32,44,101,104,108,111,120120]", v.toJson());
        assertEquals(v, Vocabulary.fromJson(v.toJson()));
        assertEquals(v, Vocabulary.fromJson(" [ 0, 32,44,101 ,104,108,111,120120 ] "));
        assertEquals(v, Vocabulary.ofCodePoints(v.codePoints()));
    }

    @Test
    void refusesJsonThatIsNotAValidVocabulary() {
        String[][] cases = {
            {"", "not a JSON array"},
            {"{}", "not a JSON array"},
            {"[1,2", "not valid JSON"},
            {"[]", "it is empty"},
            {"[1,1]", "not in increasing order (1 then 1)"},
            {"[2,1]", "not in increasing order (2 then 1)"},
            {"[-1]", "-1 is not a code point"},
            {"[1114112]", "1114112 is not a code point"},
            {"[55296]", "U+D800 is a surrogate"},
            {"[57343]", "U+DFFF is a surrogate"},
            {"[1.0]", "holds 1.0, not a code point"},
            {"[\"a\"]", "holds a, not a code point"},
            {"[99999999999]", "not a code point"},
            {"[[1]]", "not a code point"},
            {"[1] [2]", "something after its array"},
            {"[1,]", "not valid JSON"},
        };
        for (String[] c : cases) {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                    () -> Vocabulary.fromJson(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
            assertTrue(e.inFile("ck.safetensors", "metadata 'vocabulary'").getMessage()
                    .startsWith("ck.safetensors: metadata 'vocabulary': the vocabulary"), e.getMessage());
        }
    }
}

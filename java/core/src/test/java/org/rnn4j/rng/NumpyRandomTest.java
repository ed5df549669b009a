package org.rnn4j.rng;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rnn4j.testing.Json;

/**
 * Compares {@link NumpyRandom} with numpy's legacy generator, value for value, using
 * {@code numpy_random.json} (made by {@code make_numpy_random.py} next to it; see the README there).
 */
class NumpyRandomTest {

    private static final String RESOURCE = "/org/rnn4j/rng/numpy_random.json";

    private static Json expected;

    @BeforeAll
    static void load() {
        expected = Json.resource(NumpyRandomTest.class, RESOURCE);
    }

    /** Bit-for-bit comparison, with a message that shows both values. */
    private static void assertSameDouble(double want, double got, String where) {
        assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got),
                () -> where + ": expected " + want + " but got " + got);
    }

    private static double[] doubles(Json array) {
        return array.asDoubles(); // throws, naming the path, for anything but an array of numbers
    }

    @Test
    void firstValueIsNumpysWellKnownOne() {
        // np.random.seed(0); np.random.rand() -> 0.5488135039273248
        assertSameDouble(0.5488135039273248, new NumpyRandom(0).randomSample(), "seed 0, first random_sample");
    }

    @Test
    void rawUint32MatchNumpy() {
        Json cases = expected.get("raw");
        assertEquals(5, cases.size());
        for (Json c : cases) {
            long seed = c.get("seed").asLong();
            Json raw = c.get("uint32");
            assertEquals(1000, raw.size());
            NumpyRandom r = new NumpyRandom(seed);
            for (int i = 0; i < raw.size(); i++) {
                long want = raw.get(i).asLong();
                long got = Integer.toUnsignedLong(r.nextUint32());
                assertEquals(want, got, "seed " + seed + ", raw uint32 #" + i);
            }
        }
    }

    @Test
    void randomSampleMatchesNumpyOneAtATime() {
        for (Json c : expected.get("raw")) {
            long seed = c.get("seed").asLong();
            double[] want = doubles(c.get("random_sample"));
            assertEquals(1000, want.length);
            NumpyRandom r = new NumpyRandom(seed);
            for (int i = 0; i < want.length; i++) {
                double got = r.randomSample();
                assertTrue(got >= 0.0 && got < 1.0);
                assertSameDouble(want[i], got, "seed " + seed + ", random_sample #" + i);
            }
        }
    }

    @Test
    void randomSampleArrayMatchesNumpy() {
        for (Json c : expected.get("raw")) {
            long seed = c.get("seed").asLong();
            double[] want = doubles(c.get("random_sample"));
            double[] got = new double[want.length];
            new NumpyRandom(seed).randomSample(got);
            for (int i = 0; i < want.length; i++) {
                assertSameDouble(want[i], got[i], "seed " + seed + ", random_sample(" + want.length + ")[" + i + "]");
            }
        }
    }

    @Test
    void interleavedSequencesMatchNumpy() {
        Json sequences = expected.get("sequences");
        assertTrue(sequences.size() > 0);
        for (Json s : sequences) {
            long seed = s.get("seed").asLong();
            NumpyRandom r = new NumpyRandom(seed);
            int step = 0;
            for (Json op : s.get("ops")) {
                String where = "seed " + seed + ", step " + step + " (" + op.get("call").asText()
                        + " x" + op.get("repeat").asInt() + ")";
                int repeat = op.get("repeat").asInt();
                Json values = op.get("values");
                switch (op.get("op").asText()) {
                    case "randint" -> {
                        long high = op.get("high").asLong();
                        assertEquals(repeat, values.size(), where);
                        for (int i = 0; i < repeat; i++) {
                            long got = r.randint(high);
                            assertTrue(got >= 0 && got < high, where);
                            assertEquals(values.get(i).asLong(), got, where + ", value #" + i);
                        }
                    }
                    case "random_sample" -> {
                        int count = 1;
                        for (Json d : op.get("shape")) {
                            count *= d.asInt();
                        }
                        double[] want = doubles(values);
                        assertEquals(repeat * count, want.length, where);
                        double[] got = new double[count];
                        for (int k = 0; k < repeat; k++) {
                            r.randomSample(got);
                            for (int i = 0; i < count; i++) {
                                assertSameDouble(want[k * count + i], got[i], where + ", value #" + (k * count + i));
                            }
                        }
                    }
                    default -> throw new AssertionError("unknown op in " + RESOURCE + ": " + op.get("op"));
                }
                step++;
            }
        }
    }

    @Test
    void randintOfOneConsumesNoDraws() {
        NumpyRandom a = new NumpyRandom(42);
        NumpyRandom b = new NumpyRandom(42);
        for (int i = 0; i < 3; i++) {
            assertEquals(0, a.randint(1));
        }
        for (int i = 0; i < 10; i++) {
            assertEquals(b.nextUint32(), a.nextUint32());
        }
    }

    @Test
    void reseedResetsStateFully() {
        Json cases = expected.get("reseed");
        assertTrue(cases.size() > 0);
        for (Json c : cases) {
            long first = c.get("first_seed").asLong();
            long second = c.get("second_seed").asLong();
            double[] before = doubles(c.get("before"));
            double[] after = doubles(c.get("after"));
            assertEquals(c.get("first_draws").asInt(), before.length);
            assertEquals(c.get("second_draws").asInt(), after.length);
            NumpyRandom r = new NumpyRandom(first);
            for (int i = 0; i < before.length; i++) {
                assertSameDouble(before[i], r.randomSample(), "seed " + first + ", before reseed #" + i);
            }
            r.seed(second);
            for (int i = 0; i < after.length; i++) {
                assertSameDouble(after[i], r.randomSample(), "reseeded " + second + " after " + first + ", #" + i);
            }
        }
        // seed(0), 7 draws, seed(0) again: the next 3 are the first 3 again.
        NumpyRandom r = new NumpyRandom(0);
        double[] first7 = new double[7];
        r.randomSample(first7);
        r.seed(0);
        for (int i = 0; i < 3; i++) {
            assertSameDouble(first7[i], r.randomSample(), "seed(0) again, #" + i);
        }
    }

    @Test
    void acceptsSeedBounds() {
        new NumpyRandom(0);
        new NumpyRandom(4294967295L);
    }

    @Test
    void rejectsBadSeeds() {
        for (long bad : new long[] {-1L, 1L << 32, Long.MIN_VALUE, Long.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NumpyRandom(bad));
            assertEquals("seed must be between 0 and 4294967295, got " + bad, e.getMessage());
            NumpyRandom r = new NumpyRandom(0);
            assertThrows(IllegalArgumentException.class, () -> r.seed(bad));
        }
    }

    @Test
    void rejectedSeedLeavesStateUntouched() {
        NumpyRandom r = new NumpyRandom(0);
        r.randomSample();
        assertThrows(IllegalArgumentException.class, () -> r.seed(-1));
        NumpyRandom reference = new NumpyRandom(0);
        reference.randomSample();
        assertSameDouble(reference.randomSample(), r.randomSample(), "draw after a rejected reseed");
    }

    @Test
    void rejectsBadHigh() {
        NumpyRandom r = new NumpyRandom(0);
        for (long bad : new long[] {0L, -1L, (1L << 32) + 1, Long.MAX_VALUE, Long.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.randint(bad));
            assertTrue(e.getMessage().contains("high"), e.getMessage());
            assertTrue(e.getMessage().contains(Long.toString(bad)), e.getMessage());
        }
        // a rejected call draws nothing
        assertEquals(Integer.toUnsignedLong(new NumpyRandom(0).nextUint32()), Integer.toUnsignedLong(r.nextUint32()));
    }

    @Test
    void acceptsHighBounds() {
        assertEquals(0, new NumpyRandom(0).randint(1));
        NumpyRandom a = new NumpyRandom(0);
        NumpyRandom b = new NumpyRandom(0);
        // high = 2^32: the full 32-bit draw, unmasked
        assertEquals(Integer.toUnsignedLong(b.nextUint32()), a.randint(1L << 32));
    }
}

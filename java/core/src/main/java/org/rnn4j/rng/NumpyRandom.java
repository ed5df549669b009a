package org.rnn4j.rng;

/**
 * A Mersenne Twister (MT19937) random generator that reproduces numpy's legacy global generator,
 * {@code np.random.RandomState} (what {@code np.random.seed(int)}, {@code np.random.rand},
 * {@code np.random.random}, {@code np.random.random_sample} and {@code np.random.randint} use), number
 * for number.
 *
 * <p>Why: rnn4j reproduces two numpy seed scripts exactly. Those scripts call
 * {@code np.random.seed(s)} and then draw their initial weights with {@code np.random.rand} /
 * {@code np.random.random} and their sample positions with {@code np.random.randint}; to get the same
 * weights, the same samples and therefore the same losses, the Java side must produce the same
 * stream of numbers. {@link java.util.Random} and {@link java.util.SplittableRandom} cannot.
 *
 * <p>What is reproduced:
 *
 * <ul>
 *   <li>{@link #NumpyRandom(long)} / {@link #seed(long)}: {@code np.random.seed(seed)} /
 *       {@code np.random.RandomState(seed)} with an integer seed, i.e. numpy's {@code mt19937_seed}
 *       (the reference {@code init_genrand}). Seeds from 0 to 2<sup>32</sup>-1 are accepted, as in
 *       numpy. Array seeds ({@code init_by_array}) are not supported.
 *   <li>{@link #nextUint32()}: one raw tempered 32-bit output, as
 *       {@code np.random.MT19937()._legacy_seeding(seed); .random_raw()} returns them.
 *   <li>{@link #randomSample()} / {@link #randomSample(double[])}: {@code random_sample},
 *       {@code random}, {@code rand} (53-bit doubles in [0, 1), two 32-bit draws each, arrays filled
 *       in C order).
 *   <li>{@link #randint(long)}: {@code RandomState.randint(high)} with low 0, for 1 &lt;= high &lt;=
 *       2<sup>32</sup> (masked rejection sampling, one 32-bit draw per try).
 * </ul>
 *
 * <p>Not thread-safe. The draw methods allocate nothing. Gaussian draws ({@code randn}) are not
 * provided; note that numpy's {@code seed} also clears its cached Gaussian, so if they are ever added,
 * {@link #seed(long)} must clear that cache as well.
 */
public final class NumpyRandom {

    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    /** The largest seed numpy accepts for an integer seed: 2<sup>32</sup>-1. */
    public static final long MAX_SEED = 0xFFFF_FFFFL;

    /** The largest {@code high} {@link #randint(long)} accepts: 2<sup>32</sup>. */
    public static final long MAX_HIGH = 1L << 32;

    private final int[] mt = new int[N];
    private int pos;

    /**
     * Creates a generator in the state {@code np.random.seed(seed)} leaves numpy's global generator in.
     *
     * @param seed 0 to 2<sup>32</sup>-1
     * @throws IllegalArgumentException if the seed is out of range
     */
    public NumpyRandom(long seed) {
        seed(seed);
    }

    /**
     * Reseeds, exactly as {@code np.random.seed(seed)}: the whole state is reset, so the draws that
     * follow are those of a fresh {@code new NumpyRandom(seed)}.
     *
     * @param seed 0 to 2<sup>32</sup>-1
     * @throws IllegalArgumentException if the seed is out of range
     */
    public void seed(long seed) {
        if (seed < 0 || seed > MAX_SEED) {
            throw new IllegalArgumentException("seed must be between 0 and 4294967295, got " + seed);
        }
        // init_genrand: the arithmetic is mod 2^32, which Java int arithmetic gives for free.
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            int prev = mt[i - 1];
            mt[i] = 1812433253 * (prev ^ (prev >>> 30)) + i;
        }
        pos = N; // the next draw regenerates the whole block
    }

    /** Regenerates the 624-word block (numpy's {@code mt19937_gen}). */
    private void generate() {
        int[] key = mt;
        int i = 0;
        int y;
        for (; i < N - M; i++) {
            y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
            key[i] = key[i + M] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
        }
        for (; i < N - 1; i++) {
            y = (key[i] & UPPER_MASK) | (key[i + 1] & LOWER_MASK);
            key[i] = key[i + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
        }
        y = (key[N - 1] & UPPER_MASK) | (key[0] & LOWER_MASK);
        key[N - 1] = key[M - 1] ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
        pos = 0;
    }

    /**
     * The next raw, tempered 32-bit output of the twister.
     *
     * <p>Java has no unsigned int, so the 32 bits come back in an {@code int}: values of
     * 2<sup>31</sup> and above are negative. Use {@link Integer#toUnsignedLong(int)} to get numpy's
     * value (0 to 2<sup>32</sup>-1), and {@code >>>} rather than {@code >>} to shift.
     *
     * @return the 32 bits numpy's {@code random_raw()} would return, reinterpreted as a signed int
     */
    public int nextUint32() {
        if (pos == N) {
            generate();
        }
        int y = mt[pos++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y;
    }

    /**
     * numpy's {@code random_sample()} (also {@code random()} and {@code rand()}): a double in [0, 1)
     * with 53 random bits, made from two 32-bit draws: {@code a = next >>> 5}, {@code b = next >>> 6},
     * {@code (a * 2^26 + b) / 2^53}.
     *
     * @return the next value, in {@code [0, 1)}
     */
    public double randomSample() {
        int a = nextUint32() >>> 5;
        int b = nextUint32() >>> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /**
     * Fills {@code out} with consecutive {@link #randomSample()} values: the same numbers, in the same
     * order, as {@code np.random.rand(d0, d1, ...)} or {@code np.random.random(shape)} flattened in C
     * (row-major) order, for a shape with {@code out.length} elements.
     *
     * @param out receives the values; the generator advances by two 32-bit draws per element
     */
    public void randomSample(double[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = randomSample();
        }
    }

    /**
     * numpy's legacy {@code RandomState.randint(high)} (low 0, default dtype): a uniform integer in
     * [0, high).
     *
     * <p>As numpy does: with {@code rng = high - 1}, {@code rng == 0} returns 0 without drawing;
     * otherwise {@code mask} is the smallest 2<sup>k</sup>-1 &gt;= rng and 32-bit draws
     * {@code & mask} are taken until one is &lt;= rng. So a power-of-two {@code high} (such as 128)
     * always takes one draw, while e.g. {@code randint(100)} may take several.
     *
     * @param high 1 to 2<sup>32</sup> (exclusive upper bound)
     * @return the value, in {@code [0, high)}
     * @throws IllegalArgumentException if {@code high} is out of range
     */
    public long randint(long high) {
        if (high < 1 || high > MAX_HIGH) {
            throw new IllegalArgumentException("high must be between 1 and 4294967296, got " + high);
        }
        long rng = high - 1;
        if (rng == 0) {
            return 0;
        }
        long mask = rng;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        long value;
        do {
            value = Integer.toUnsignedLong(nextUint32()) & mask;
        } while (value > rng);
        return value;
    }
}

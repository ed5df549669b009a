package org.rnn4j.backend;

/**
 * Philox 4x32-10, the counter-based generator of Random123 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC11): 32-bit words, ten rounds, a 128-bit counter and a 64-bit key. rnn4j's dropout draws its bits from it on
 * every backend (the CUDA kernels run the same rounds, {@code philox4x32_10} in {@code rnn4j_math.cuh}), so the CPU and
 * a GPU keep and drop the same elements for the same seed and offset; see {@link Backend#dropoutForward}.
 */
public final class Philox {

    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private Philox() {
    }

    /**
     * The four output words of Philox 4x32-10 for {@code counter = [c0, c1, c2, c3]} and {@code key = [k0, k1]},
     * written to {@code out[0..3]} (words as unsigned 32-bit values held in {@code int}).
     *
     * @param c0  counter word 0 (least significant)
     * @param c1  counter word 1
     * @param c2  counter word 2
     * @param c3  counter word 3
     * @param k0  key word 0 (least significant)
     * @param k1  key word 1
     * @param out receives the four output words; at least four elements
     */
    public static void philox4x32(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            if (round > 0) {
                k0 += W0; // the key is bumped between rounds
                k1 += W1;
            }
            long p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
            long p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * The block of four words dropout uses for counter {@code index}: counter {@code [lo(index), hi(index), 0, 0]},
     * key {@code [lo(seed), hi(seed)]}.
     *
     * @param seed  the dropout seed, the key
     * @param index the counter: the call's offset plus the element index divided by 4
     * @param out   receives the four words; element {@code i} of a dropout uses word {@code i % 4}
     */
    public static void block(long seed, long index, int[] out) {
        philox4x32((int) index, (int) (index >>> 32), 0, 0, (int) seed, (int) (seed >>> 32), out);
    }

    /**
     * Dropout's threshold for a drop probability {@code p} in {@code [0, 1)}: {@code floor(p * 2^32)}; an element is
     * dropped when its word, unsigned, is below it.
     *
     * @param p the drop probability
     * @return the threshold, in {@code [0, 2^32)}
     * @throws IllegalArgumentException when {@code p} is outside {@code [0, 1)}
     */
    public static long dropThreshold(double p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("p must lie in [0, 1), got " + p);
        }
        return (long) Math.floor(p * 0x1p32);
    }
}

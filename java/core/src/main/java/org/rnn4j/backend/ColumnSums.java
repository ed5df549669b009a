package org.rnn4j.backend;

/**
 * The summation order of {@link Backend#sumRows}, shared by every backend so that they all add in the same order:
 * a partition of the rows into chunks that depends on the sizes only (never on the device, its SM count or thread
 * count), so that the CPU backends and the CUDA backend on any GPU give the same bits.
 *
 * <p>With {@code chunkRows = chunkRows(rows, cols)} and {@code chunks = ceil(rows / chunkRows)}:
 * <ul>
 *   <li>one chunk ({@code rows <= }{@link #CHUNK_ROWS}, or a {@code cols} so large that two chunks of partial sums
 *       would not fit in {@link #MAX_PARTIALS}): {@code dst[j] = start + src[0, j] + src[1, j] + ...}, rows ascending;</li>
 *   <li>else, per chunk {@code c}: {@code part[c, j] = 0 + src[c * chunkRows, j] + ...} over its rows ascending, then
 *       {@code dst[j] = start + part[0, j] + part[1, j] + ...}, chunks ascending;</li>
 * </ul>
 * where {@code start} is {@code dst[j]} when accumulating, else 0. The chunk length is {@link #CHUNK_ROWS}, grown
 * only where {@code chunks * cols} would exceed {@link #MAX_PARTIALS} (the CUDA backend's scratch space). On a GPU
 * the chunks are what fills the device: {@code chunks * cols} threads in the first stage instead of {@code cols}
 * (for rows = 6400, cols = 2048: 409,600 threads instead of 2048). The error stays within the recursive-summation
 * bound with depth {@code chunkRows + chunks} instead of {@code rows}.
 */
public final class ColumnSums {

    /** Rows per chunk, unless the partial sums would exceed {@link #MAX_PARTIALS}. */
    public static final int CHUNK_ROWS = 32;

    /** The most partial sums ({@code chunks * cols}) one sumRows keeps (the CUDA backend's scratch, in elements). */
    public static final int MAX_PARTIALS = 1 << 20;

    private ColumnSums() {
    }

    /**
     * Rows per chunk for a {@code (rows, cols)} source; a value {@code >= rows} means one chunk (one pass).
     *
     * @param rows the rows summed, positive
     * @param cols the columns (sums made), positive
     * @return the rows per chunk: {@link #CHUNK_ROWS}, more where the partial sums would not fit, or {@code rows}
     * @throws IllegalArgumentException if {@code rows < 1} or {@code cols < 1}
     */
    public static int chunkRows(int rows, int cols) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("rows and cols must be at least 1, got " + rows + " and " + cols);
        }
        int maxChunks = MAX_PARTIALS / cols;
        long chunks = ((long) rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
        if (maxChunks < 2) {
            return rows;
        }
        if (chunks <= maxChunks) {
            return CHUNK_ROWS;
        }
        return (int) (((long) rows + maxChunks - 1) / maxChunks); // then ceil(rows / this) <= maxChunks
    }

    /**
     * How many chunks {@link #chunkRows} gives: 1 means the one-pass order.
     *
     * @param rows the rows summed, positive
     * @param cols the columns (sums made), positive
     * @return {@code ceil(rows / chunkRows(rows, cols))}, at least 1
     * @throws IllegalArgumentException if {@code rows < 1} or {@code cols < 1}
     */
    public static int chunks(int rows, int cols) {
        int r = chunkRows(rows, cols);
        return (int) (((long) rows + r - 1) / r);
    }
}

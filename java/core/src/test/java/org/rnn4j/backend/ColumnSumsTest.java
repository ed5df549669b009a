package org.rnn4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * The sumRows partition ({@link ColumnSums}) and the CPU backends' sums in its order: bit for bit the two-stage sum
 * written out here from the documented order, and within the recursive-summation bound of the exact sum.
 */
class ColumnSumsTest {

    @Test
    void partitionDependsOnTheSizesAsDocumented() {
        // One chunk (one pass) up to CHUNK_ROWS rows.
        assertEquals(1, ColumnSums.chunks(1, 7));
        assertEquals(1, ColumnSums.chunks(32, 4096));
        // Chunks of 32 rows: the LSTM bias gradients at T * B = 6400, 4H = 2048 give 200 chunks, 409,600 threads.
        assertEquals(32, ColumnSums.chunkRows(33, 7));
        assertEquals(2, ColumnSums.chunks(33, 7));
        assertEquals(200, ColumnSums.chunks(6400, 2048));
        // Partials capped at MAX_PARTIALS = 2^20: cols = 2^14 allows 64 chunks, so 4000 rows go in chunks of 63.
        assertEquals(63, ColumnSums.chunkRows(4000, 1 << 14));
        assertEquals(64, ColumnSums.chunks(4000, 1 << 14));
        // So wide that two chunks do not fit: one pass.
        assertEquals(1, ColumnSums.chunks(1000, (1 << 19) + 1));
        // The largest source, one column: 2^20 chunks of 2048 rows, no int overflow on the way.
        assertEquals(2048, ColumnSums.chunkRows(Integer.MAX_VALUE, 1));
        assertEquals(1 << 20, ColumnSums.chunks(Integer.MAX_VALUE, 1));
        assertThrows(IllegalArgumentException.class, () -> ColumnSums.chunkRows(0, 3));
        assertThrows(IllegalArgumentException.class, () -> ColumnSums.chunkRows(3, 0));
    }

    @Test
    void partitionNeverExceedsTheScratchAndCoversEveryRow() {
        Random rnd = new Random(5);
        for (int i = 0; i < 20000; i++) {
            int rows = 1 + rnd.nextInt(i % 2 == 0 ? 100_000 : 5000);
            int cols = 1 + rnd.nextInt(i % 3 == 0 ? 1 << 21 : 3000);
            int chunkRows = ColumnSums.chunkRows(rows, cols);
            int chunks = ColumnSums.chunks(rows, cols);
            assertTrue(chunkRows >= 1);
            assertTrue((long) chunks * chunkRows >= rows && (long) (chunks - 1) * chunkRows < rows,
                    rows + " x " + cols + ": " + chunks + " chunks of " + chunkRows);
            if (chunks > 1) {
                assertTrue((long) chunks * cols <= ColumnSums.MAX_PARTIALS, rows + " x " + cols);
                assertTrue(chunkRows >= ColumnSums.CHUNK_ROWS);
            }
        }
    }

    /** The documented order, written out: one pass, or chunk sums from 0 then their sum from the start. */
    private static double[] twoStage64(int rows, int cols, double[] src, double[] start) {
        int chunkRows = ColumnSums.chunkRows(rows, cols);
        int chunks = ColumnSums.chunks(rows, cols);
        double[] part = new double[chunks * cols];
        for (int c = 0; c < chunks; c++) {
            for (int r = c * chunkRows; r < Math.min(rows, (c + 1) * chunkRows); r++) {
                for (int j = 0; j < cols; j++) {
                    part[c * cols + j] += src[r * cols + j];
                }
            }
        }
        double[] out = start.clone();
        for (int j = 0; j < cols; j++) {
            if (chunks == 1) {
                for (int r = 0; r < rows; r++) {
                    out[j] += src[r * cols + j];
                }
            } else {
                for (int c = 0; c < chunks; c++) {
                    out[j] += part[c * cols + j];
                }
            }
        }
        return out;
    }

    private static float[] twoStage32(int rows, int cols, float[] src, float[] start) {
        int chunkRows = ColumnSums.chunkRows(rows, cols);
        int chunks = ColumnSums.chunks(rows, cols);
        float[] part = new float[chunks * cols];
        for (int c = 0; c < chunks; c++) {
            for (int r = c * chunkRows; r < Math.min(rows, (c + 1) * chunkRows); r++) {
                for (int j = 0; j < cols; j++) {
                    part[c * cols + j] += src[r * cols + j];
                }
            }
        }
        float[] out = start.clone();
        for (int j = 0; j < cols; j++) {
            if (chunks == 1) {
                for (int r = 0; r < rows; r++) {
                    out[j] += src[r * cols + j];
                }
            } else {
                for (int c = 0; c < chunks; c++) {
                    out[j] += part[c * cols + j];
                }
            }
        }
        return out;
    }

    @Test
    void cpuBackendsSumInThePartitionOrderWithinTheBound() {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 5}, {31, 3}, {32, 4}, {33, 4}, {64, 7}, {1000, 3}, {4099, 2}, {3, 1}};
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            for (boolean accumulate : new boolean[] {false, true}) {
                double[] src = new double[rows * cols];
                for (int i = 0; i < src.length; i++) {
                    src[i] = rnd.nextDouble() * 2 - 1;
                }
                double[] start = new double[cols];
                for (int j = 0; j < cols; j++) {
                    start[j] = accumulate ? rnd.nextDouble() * 8 - 4 : 0;
                }
                float[] src32 = new float[src.length];
                for (int i = 0; i < src.length; i++) {
                    src32[i] = (float) src[i];
                }
                float[] start32 = new float[cols];
                for (int j = 0; j < cols; j++) {
                    start32[j] = (float) start[j];
                }
                double[] want64 = twoStage64(rows, cols, src, start);
                float[] want32 = twoStage32(rows, cols, src32, start32);
                String what = rows + " x " + cols + (accumulate ? " accumulate" : "");
                try (Backend b64 = new CpuBackend64(); Backend b32 = new CpuBackend32()) {
                    double[] got64 = run(b64, rows, cols, src, start, accumulate);
                    double[] got32 = run(b32, rows, cols, src, start, accumulate);
                    int chunks = ColumnSums.chunks(rows, cols);
                    int depth = chunks == 1 ? rows : ColumnSums.chunkRows(rows, cols) + chunks;
                    for (int j = 0; j < cols; j++) {
                        assertEquals(Double.doubleToRawLongBits(want64[j]), Double.doubleToRawLongBits(got64[j]),
                                what + " float64 column " + j);
                        assertEquals(Float.floatToRawIntBits(want32[j]), Float.floatToRawIntBits((float) got32[j]),
                                what + " float32 column " + j);
                        // Against the exact sum (BigDecimal), within gamma(depth) * (|start| + sum |x|).
                        java.math.BigDecimal exact = new java.math.BigDecimal(start[j]);
                        double mag = Math.abs(start[j]);
                        for (int r = 0; r < rows; r++) {
                            exact = exact.add(new java.math.BigDecimal(src[r * cols + j]));
                            mag += Math.abs(src[r * cols + j]);
                        }
                        double u = 0x1p-53;
                        double bound = depth * u / (1 - depth * u) * mag * (1 + 1e-12);
                        double err = Math.abs(new java.math.BigDecimal(got64[j]).subtract(exact).doubleValue());
                        assertTrue(err <= bound, what + " column " + j + ": |err| " + err + " > " + bound);
                    }
                }
            }
        }
    }

    private static double[] run(Backend b, int rows, int cols, double[] src, double[] start, boolean accumulate) {
        Buffer s = b.allocate(rows * cols);
        Buffer d = b.allocate(cols);
        b.upload(src, s);
        b.upload(start, d);
        b.sumRows(rows, cols, s, d, accumulate);
        return b.download(d);
    }
}

// reduce_chunks family: the first stage of the deterministic two-stage column sums (sumRows, the bias gradients).
// ABI: native-kernels/README.md.
//
// sumRows(rows, cols, src, dst) over many rows runs as two launches with a partition that depends on the sizes only
// (org.rnn4j.backend.ColumnSums: chunks of chunkRows consecutive rows, never the device's SM count, so every GPU and
// the CPU backends add in the same order):
//   1. rnn4j_sum_rows_chunks: one thread per (chunk c, column j), chunks * cols threads in a 1-D launch;
//      partial[c * cols + j] = 0 + src[r0 * cols + j] + src[(r0 + 1) * cols + j] + ... for r in
//      [c * chunkRows, min(rows, (c + 1) * chunkRows)) ascending;
//   2. rnn4j_sum_rows (reduce.cu) over the partials: dst[j] = start + partial[0][j] + partial[1][j] + ... ascending.
// No atomics; each output is written by one thread. Consecutive threads read consecutive columns of a row
// (coalesced). partial must not overlap src.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace reduce {

// One chunk's column sum, from 0, rows ascending.
template <typename T>
RNN4J_HD inline T sum_rows_chunk(int rows, int cols, int chunkRows, int c, int j, const T* src) {
    const long long r0 = (long long) c * chunkRows;
    const long long r1 = r0 + chunkRows < rows ? r0 + chunkRows : rows;
    T sum = T(0);
    for (long long r = r0; r < r1; ++r) {
        sum += src[r * cols + j];
    }
    return sum;
}

// The thread idx of the 1-D launch (idx < chunks * cols): chunk idx / cols, column idx % cols.
template <typename T>
RNN4J_HD inline void sum_rows_chunks_thread(long long idx, int rows, int cols, int chunkRows, int chunks,
                                            const T* src, T* partial) {
    if (idx >= (long long) chunks * cols) {
        return;
    }
    const int c = (int) (idx / cols);
    const int j = (int) (idx % cols);
    partial[idx] = sum_rows_chunk(rows, cols, chunkRows, c, j, src);
}

} // namespace reduce
} // namespace rnn4j

#ifdef __CUDACC__
extern "C" {

__global__ void rnn4j_sum_rows_chunks_f32(int rows, int cols, int chunkRows, int chunks, const float* src,
                                          float* partial) {
    rnn4j::reduce::sum_rows_chunks_thread<float>(rnn4j::global_index(), rows, cols, chunkRows, chunks, src, partial);
}

__global__ void rnn4j_sum_rows_chunks_f64(int rows, int cols, int chunkRows, int chunks, const double* src,
                                          double* partial) {
    rnn4j::reduce::sum_rows_chunks_thread<double>(rnn4j::global_index(), rows, cols, chunkRows, chunks, src,
                                                  partial);
}

} // extern "C"
#endif

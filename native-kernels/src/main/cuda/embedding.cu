// embedding family: lookup and its deterministic scatter-add gradient. ABI: native-kernels/README.md.
//  * embedding_forward: one thread per element of out (n * dim); a bad index (decode_index gives -1) writes NaN.
//  * embedding_backward: one thread per (part, column e), threads = parts * dim, thread idx = part * dim + e; the
//    thread owns the rows [part * rowsPerPart, min(vocab, (part + 1) * rowsPerPart)) of column e: it zeroes them unless
//    accumulate != 0, then walks i = 0 .. n-1 and adds dOut[i, e] into dTable[indices[i], e] when that row is its own.
//    Every element of dTable is written by exactly one thread, its contributions in ascending i: no atomics, the
//    CPU's order, so the result is bit for bit the CPU's. A bad index is owned by no thread and so skipped.
// dTable must not overlap indices or dOut; out must not overlap table or indices.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void embedding_forward(int n, int dim, int vocab, const T* table, const T* indices,
                                                  T* out) {
    const long long idx = global_index();
    if (idx >= (long long) n * dim) return;
    const long long i = idx / dim;
    const int e = (int) (idx - i * dim);
    const int k = decode_index(indices[i], vocab);
    out[idx] = k < 0 ? nan_val<T>() : table[(long long) k * dim + e];
}

template <typename T>
__device__ __forceinline__ void embedding_backward(int n, int dim, int vocab, int rowsPerPart, int parts,
                                                   const T* indices, const T* dOut, T* dTable, int accumulate) {
    const long long idx = global_index();
    if (idx >= (long long) parts * dim) return;
    const int part = (int) (idx / dim);
    const int e = (int) (idx - (long long) part * dim);
    const int v0 = part * rowsPerPart;
    const int v1 = vocab - v0 < rowsPerPart ? vocab : v0 + rowsPerPart;
    if (!accumulate) {
        for (int v = v0; v < v1; ++v) {
            dTable[(long long) v * dim + e] = T(0);
        }
    }
    for (int i = 0; i < n; ++i) {
        const int k = decode_index(indices[i], vocab);
        if (k >= v0 && k < v1) {
            T* d = dTable + (long long) k * dim + e;
            *d = *d + dOut[(long long) i * dim + e];
        }
    }
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_embedding_forward_f32(int n, int dim, int vocab, const float* table, const float* indices,
                                            float* out) {
    rnn4j::kernels::embedding_forward<float>(n, dim, vocab, table, indices, out);
}

__global__ void rnn4j_embedding_forward_f64(int n, int dim, int vocab, const double* table, const double* indices,
                                            double* out) {
    rnn4j::kernels::embedding_forward<double>(n, dim, vocab, table, indices, out);
}

__global__ void rnn4j_embedding_backward_f32(int n, int dim, int vocab, int rowsPerPart, int parts,
                                             const float* indices, const float* dOut, float* dTable, int accumulate) {
    rnn4j::kernels::embedding_backward<float>(n, dim, vocab, rowsPerPart, parts, indices, dOut, dTable, accumulate);
}

__global__ void rnn4j_embedding_backward_f64(int n, int dim, int vocab, int rowsPerPart, int parts,
                                             const double* indices, const double* dOut, double* dTable,
                                             int accumulate) {
    rnn4j::kernels::embedding_backward<double>(n, dim, vocab, rowsPerPart, parts, indices, dOut, dTable, accumulate);
}

} // extern "C"

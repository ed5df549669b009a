// dropout family: Philox 4x32-10 dropout. ABI: native-kernels/README.md.
//  * dropout_forward: one thread per group of four elements (threads = ceil(n / 4)); thread q draws
//    philox4x32_10(counter = [lo, hi, 0, 0] of offset + q, key = [seedLo, seedHi]) and element 4q + w uses word w:
//    mask = word < threshold ? 0 : scale, y = x * mask. The same bits as org.rnn4j.backend.Philox on the CPU.
//    y may be x (each thread reads its elements before writing them); mask overlaps neither.
//  * dropout_backward: one thread per element, dx = dy * mask; dx may be dy.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void dropout_forward(int n, const T* x, unsigned int seedLo, unsigned int seedHi,
                                                unsigned int offsetLo, unsigned int offsetHi, unsigned int threshold,
                                                T scale, T* mask, T* y) {
    const long long q = global_index();
    if (q * 4 >= n) return;
    const unsigned long long counter = (((unsigned long long) offsetHi << 32) | offsetLo) + (unsigned long long) q;
    unsigned int words[4];
    philox4x32_10((unsigned int) counter, (unsigned int) (counter >> 32), 0u, 0u, seedLo, seedHi, words);
    for (int w = 0; w < 4; ++w) {
        const long long i = q * 4 + w;
        if (i < n) {
            const T m = dropout_mask(words[w], threshold, scale);
            const T xi = x[i];
            mask[i] = m;
            y[i] = xi * m;
        }
    }
}

template <typename T>
__device__ __forceinline__ void dropout_backward(int n, const T* dy, const T* mask, T* dx) {
    const long long i = global_index();
    if (i >= n) return;
    dx[i] = dy[i] * mask[i];
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_dropout_forward_f32(int n, const float* x, unsigned int seedLo, unsigned int seedHi,
                                          unsigned int offsetLo, unsigned int offsetHi, unsigned int threshold,
                                          float scale, float* mask, float* y) {
    rnn4j::kernels::dropout_forward<float>(n, x, seedLo, seedHi, offsetLo, offsetHi, threshold, scale, mask, y);
}

__global__ void rnn4j_dropout_forward_f64(int n, const double* x, unsigned int seedLo, unsigned int seedHi,
                                          unsigned int offsetLo, unsigned int offsetHi, unsigned int threshold,
                                          double scale, double* mask, double* y) {
    rnn4j::kernels::dropout_forward<double>(n, x, seedLo, seedHi, offsetLo, offsetHi, threshold, scale, mask, y);
}

__global__ void rnn4j_dropout_backward_f32(int n, const float* dy, const float* mask, float* dx) {
    rnn4j::kernels::dropout_backward<float>(n, dy, mask, dx);
}

__global__ void rnn4j_dropout_backward_f64(int n, const double* dy, const double* mask, double* dx) {
    rnn4j::kernels::dropout_backward<double>(n, dy, mask, dx);
}

} // extern "C"

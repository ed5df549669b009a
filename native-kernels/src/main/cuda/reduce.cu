// reduce family: bias gradients, bias-add, the gradient L2 norm and clipping. ABI: native-kernels/README.md.
// rnn4j_sum_rows: 1-D launch, one thread per column j (n = cols; blockDim.x = 256 by convention, not assumed). The
// thread sums its column over the rows in ascending order, from dst[j] when accumulate != 0, else from 0: the CPU's
// order, so the result is deterministic and equal to it. dst must not overlap src.
// Also (ABI in native-kernels/README.md):
//  * bias_add: one thread per element of (rows, cols); y may be x.
//  * l2norm_partial: the first stage of the deterministic reduction of x[i]^2, one block of exactly 256 threads per
//    chunk, each block's sum into g_partials[blockIdx.x]; l2norm_finish: one block of 256, norm[0] = sqrt(sum).
//  * clip_coefficient: one thread; coef may be norm. scale_by: one thread per element, x[i] *= factor[0].
#include "rnn4j_math.cuh"

// The partial sums of the deterministic reduction, one per chunk, this module's own (see losses.cu).
__device__ double g_partials[rnn4j::kReduceMaxChunks];

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void sum_rows(int rows, int cols, const T* src, T* dst, int accumulate) {
    const long long j = global_index();
    if (j >= cols) return;
    dst[j] = sum_rows_column(rows, cols, (int) j, src, accumulate ? dst[j] : T(0));
}

template <typename T>
__device__ __forceinline__ void bias_add(int rows, int cols, const T* x, const T* bias, T* y) {
    const long long idx = global_index();
    if (idx >= (long long) rows * cols) return;
    y[idx] = bias_add_element(x[idx], bias[idx % cols]);
}

template <typename T>
__device__ __forceinline__ void l2norm_partial(int n, int chunk, const T* x) {
    const long long start = (long long) blockIdx.x * chunk;
    const long long end = start + chunk < n ? start + chunk : n;
    const T sum = block_lane_sum<T>(start, end, [&](long long i) { return square_term(x[i]); });
    if (threadIdx.x == 0) {
        reinterpret_cast<T*>(g_partials)[blockIdx.x] = sum;
    }
}

template <typename T>
__device__ __forceinline__ void l2norm_finish(int chunks, T* norm) {
    const T* partials = reinterpret_cast<const T*>(g_partials);
    const T sum = block_lane_sum<T>(0, chunks, [&](long long c) { return partials[c]; });
    if (threadIdx.x == 0) {
        norm[0] = sqrt_p(sum);
    }
}

template <typename T>
__device__ __forceinline__ void clip_coefficient_kernel(const T* norm, T maxNorm, T* coef) {
    if (global_index() != 0) return;
    coef[0] = clip_coefficient(norm[0], maxNorm);
}

template <typename T>
__device__ __forceinline__ void scale_by(int n, T* x, const T* factor) {
    const long long i = global_index();
    if (i >= n) return;
    x[i] = x[i] * factor[0];
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_sum_rows_f32(int rows, int cols, const float* src, float* dst, int accumulate) {
    rnn4j::kernels::sum_rows<float>(rows, cols, src, dst, accumulate);
}

__global__ void rnn4j_sum_rows_f64(int rows, int cols, const double* src, double* dst, int accumulate) {
    rnn4j::kernels::sum_rows<double>(rows, cols, src, dst, accumulate);
}

__global__ void rnn4j_bias_add_f32(int rows, int cols, const float* x, const float* bias, float* y) {
    rnn4j::kernels::bias_add<float>(rows, cols, x, bias, y);
}

__global__ void rnn4j_bias_add_f64(int rows, int cols, const double* x, const double* bias, double* y) {
    rnn4j::kernels::bias_add<double>(rows, cols, x, bias, y);
}

__global__ void rnn4j_l2norm_partial_f32(int n, int chunk, const float* x) {
    rnn4j::kernels::l2norm_partial<float>(n, chunk, x);
}

__global__ void rnn4j_l2norm_partial_f64(int n, int chunk, const double* x) {
    rnn4j::kernels::l2norm_partial<double>(n, chunk, x);
}

__global__ void rnn4j_l2norm_finish_f32(int chunks, float* norm) {
    rnn4j::kernels::l2norm_finish<float>(chunks, norm);
}

__global__ void rnn4j_l2norm_finish_f64(int chunks, double* norm) {
    rnn4j::kernels::l2norm_finish<double>(chunks, norm);
}

__global__ void rnn4j_clip_coefficient_f32(const float* norm, float maxNorm, float* coef) {
    rnn4j::kernels::clip_coefficient_kernel<float>(norm, maxNorm, coef);
}

__global__ void rnn4j_clip_coefficient_f64(const double* norm, double maxNorm, double* coef) {
    rnn4j::kernels::clip_coefficient_kernel<double>(norm, maxNorm, coef);
}

__global__ void rnn4j_scale_by_f32(int n, float* x, const float* factor) {
    rnn4j::kernels::scale_by<float>(n, x, factor);
}

__global__ void rnn4j_scale_by_f64(int n, double* x, const double* factor) {
    rnn4j::kernels::scale_by<double>(n, x, factor);
}

} // extern "C"

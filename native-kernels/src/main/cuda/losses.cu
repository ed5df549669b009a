// losses family: softmax cross-entropy and mean squared error. ABI: native-kernels/README.md.
//  * cross_entropy_forward / _backward: one thread per row (n = rows), walking the row's classes in ascending order.
//  * cross_entropy_mean_partial, mse_partial: the first stage of the deterministic reduction, one block of exactly
//    256 threads per chunk (grid = number of chunks), each block's sum into g_partials[blockIdx.x]; mean_finish: the
//    second stage, one block of 256, out[0] = sum / n.
//  * mse_backward: one thread per element.
// No aliasing between outputs and inputs is allowed (as Backend's default), except mse_backward's dPred == pred.
#include "rnn4j_math.cuh"

// The partial sums of the deterministic reduction, one per chunk (at most kReduceMaxChunks), as float or double;
// this module's own, used by one stream at a time (the backend's), so one reduction's two stages never interleave.
__device__ double g_partials[rnn4j::kReduceMaxChunks];

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void cross_entropy_forward(int rows, int classes, const T* logits, const T* targets,
                                                      T* loss) {
    const long long r = global_index();
    if (r >= rows) return;
    loss[r] = cross_entropy_row(logits + r * classes, classes, decode_index(targets[r], classes));
}

template <typename T>
__device__ __forceinline__ void cross_entropy_mean_partial(int rows, int classes, int chunk, const T* logits,
                                                           const T* targets) {
    const long long start = (long long) blockIdx.x * chunk;
    const long long end = start + chunk < rows ? start + chunk : rows;
    const T sum = block_lane_sum<T>(start, end, [&](long long r) {
        return cross_entropy_row(logits + r * classes, classes, decode_index(targets[r], classes));
    });
    if (threadIdx.x == 0) {
        reinterpret_cast<T*>(g_partials)[blockIdx.x] = sum;
    }
}

template <typename T>
__device__ __forceinline__ void mean_finish(int chunks, int n, T* out) {
    const T* partials = reinterpret_cast<const T*>(g_partials);
    const T sum = block_lane_sum<T>(0, chunks, [&](long long c) { return partials[c]; });
    if (threadIdx.x == 0) {
        out[0] = sum / (T) n;
    }
}

template <typename T>
__device__ __forceinline__ void cross_entropy_backward(int rows, int classes, const T* logits, const T* targets,
                                                       T scale, T* dLogits) {
    const long long r = global_index();
    if (r >= rows) return;
    const T* x = logits + r * classes;
    T* d = dLogits + r * classes;
    const int target = decode_index(targets[r], classes);
    if (target < 0) {
        for (int j = 0; j < classes; ++j) {
            d[j] = nan_val<T>();
        }
        return;
    }
    const T m = row_max(x, classes);
    const T s = row_sum_exp(x, classes, m);
    for (int j = 0; j < classes; ++j) {
        d[j] = cross_entropy_grad_element(x[j], m, s, j == target, scale);
    }
}

template <typename T>
__device__ __forceinline__ void mse_partial(int n, int chunk, const T* pred, const T* target) {
    const long long start = (long long) blockIdx.x * chunk;
    const long long end = start + chunk < n ? start + chunk : n;
    const T sum = block_lane_sum<T>(start, end, [&](long long i) { return mse_term(pred[i], target[i]); });
    if (threadIdx.x == 0) {
        reinterpret_cast<T*>(g_partials)[blockIdx.x] = sum;
    }
}

template <typename T>
__device__ __forceinline__ void mse_backward(int n, const T* pred, const T* target, T scale, T* dPred) {
    const long long i = global_index();
    if (i >= n) return;
    dPred[i] = mse_grad_element(pred[i], target[i], scale);
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_cross_entropy_forward_f32(int rows, int classes, const float* logits, const float* targets,
                                                float* loss) {
    rnn4j::kernels::cross_entropy_forward<float>(rows, classes, logits, targets, loss);
}

__global__ void rnn4j_cross_entropy_forward_f64(int rows, int classes, const double* logits, const double* targets,
                                                double* loss) {
    rnn4j::kernels::cross_entropy_forward<double>(rows, classes, logits, targets, loss);
}

__global__ void rnn4j_cross_entropy_mean_partial_f32(int rows, int classes, int chunk, const float* logits,
                                                     const float* targets) {
    rnn4j::kernels::cross_entropy_mean_partial<float>(rows, classes, chunk, logits, targets);
}

__global__ void rnn4j_cross_entropy_mean_partial_f64(int rows, int classes, int chunk, const double* logits,
                                                     const double* targets) {
    rnn4j::kernels::cross_entropy_mean_partial<double>(rows, classes, chunk, logits, targets);
}

__global__ void rnn4j_mean_finish_f32(int chunks, int n, float* out) {
    rnn4j::kernels::mean_finish<float>(chunks, n, out);
}

__global__ void rnn4j_mean_finish_f64(int chunks, int n, double* out) {
    rnn4j::kernels::mean_finish<double>(chunks, n, out);
}

__global__ void rnn4j_cross_entropy_backward_f32(int rows, int classes, const float* logits, const float* targets,
                                                 float scale, float* dLogits) {
    rnn4j::kernels::cross_entropy_backward<float>(rows, classes, logits, targets, scale, dLogits);
}

__global__ void rnn4j_cross_entropy_backward_f64(int rows, int classes, const double* logits, const double* targets,
                                                 double scale, double* dLogits) {
    rnn4j::kernels::cross_entropy_backward<double>(rows, classes, logits, targets, scale, dLogits);
}

__global__ void rnn4j_mse_partial_f32(int n, int chunk, const float* pred, const float* target) {
    rnn4j::kernels::mse_partial<float>(n, chunk, pred, target);
}

__global__ void rnn4j_mse_partial_f64(int n, int chunk, const double* pred, const double* target) {
    rnn4j::kernels::mse_partial<double>(n, chunk, pred, target);
}

__global__ void rnn4j_mse_backward_f32(int n, const float* pred, const float* target, float scale, float* dPred) {
    rnn4j::kernels::mse_backward<float>(n, pred, target, scale, dPred);
}

__global__ void rnn4j_mse_backward_f64(int n, const double* pred, const double* target, double scale, double* dPred) {
    rnn4j::kernels::mse_backward<double>(n, pred, target, scale, dPred);
}

} // extern "C"

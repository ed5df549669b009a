// losses family: softmax cross-entropy and mean squared error. ABI: native-kernels/README.md.
//  * cross_entropy_forward / _backward: one warp of 32 threads per row (threads = rows * 32 in blocks of 256, so 8
//    rows per block; warp w of block b has row 8b + w): lane t takes classes t, t + 32, ... and the lanes are combined
//    pairwise (rnn4j_math.cuh, ce_row_stats_warp), a partition of the classes that depends on their number only.
//  * cross_entropy_mean_partial, mse_partial: the first stage of the deterministic reduction, one block of exactly
//    256 threads per chunk (grid = number of chunks), each block's sum into g_partials[blockIdx.x]; mean_finish: the
//    second stage, one block of 256, out[0] = sum / n. The cross-entropy's rows are computed by the block's 8 warps,
//    256 rows at a time into shared memory, from which thread t adds the loss of row start + t, start + t + 256, ...:
//    the reduction's order (block_lane_sum's), the rows' losses those of cross_entropy_forward.
//  * mse_backward: one thread per element.
// No aliasing between outputs and inputs is allowed (as Backend's default), except mse_backward's dPred == pred.
#include "rnn4j_math.cuh"

// The partial sums of the deterministic reduction, one per chunk (at most kReduceMaxChunks), as float or double;
// this module's own, used by one stream at a time (the backend's), so one reduction's two stages never interleave.
__device__ double g_partials[rnn4j::kReduceMaxChunks];

namespace rnn4j {
namespace kernels {

// The row of the calling warp, -1 past the last row (the whole warp then returns).
__device__ inline long long warp_row(int rows) {
    const long long r = global_index() / kCeLanes;
    return r < rows ? r : -1;
}

// One row's loss, computed by the calling warp (all 32 lanes); every lane gets it.
template <typename T>
__device__ inline T cross_entropy_row_warp(const T* x, int classes, int target, int lane) {
    if (target < 0) {
        return nan_val<T>();
    }
    T m, s;
    ce_row_stats_warp(x, classes, lane, m, s);
    return cross_entropy_loss(x, target, m, s);
}

template <typename T>
__device__ __forceinline__ void cross_entropy_forward(int rows, int classes, const T* logits, const T* targets,
                                                      T* loss) {
    const long long r = warp_row(rows);
    if (r < 0) return;
    const int lane = threadIdx.x % kCeLanes;
    const T l = cross_entropy_row_warp(logits + r * classes, classes, decode_index(targets[r], classes), lane);
    if (lane == 0) {
        loss[r] = l;
    }
}

template <typename T>
__device__ __forceinline__ void cross_entropy_mean_partial(int rows, int classes, int chunk, const T* logits,
                                                           const T* targets) {
    __shared__ double raw[kReduceLanes]; // the losses of 256 rows, as T
    T* rowLoss = reinterpret_cast<T*>(raw);
    const long long start = (long long) blockIdx.x * chunk;
    const long long end = start + chunk < rows ? start + chunk : rows;
    const int t = threadIdx.x;
    const int warp = t / kCeLanes;
    const int lane = t % kCeLanes;
    T acc = T(0);
    for (long long g = start; g < end; g += kReduceLanes) {
        for (int i = 0; i < kCeLanes; ++i) { // warp w: the rows g + 32w .. g + 32w + 31
            const int slot = warp * kCeLanes + i;
            const long long r = g + slot;
            if (r < end) { // the same for the whole warp
                const T l = cross_entropy_row_warp(logits + r * classes, classes,
                                                   decode_index(targets[r], classes), lane);
                if (lane == 0) {
                    rowLoss[slot] = l;
                }
            }
        }
        __syncthreads();
        if (g + t < end) {
            acc += rowLoss[t];
        }
        __syncthreads();
    }
    const T sum = block_tree_sum(acc);
    if (t == 0) {
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
    const long long r = warp_row(rows);
    if (r < 0) return;
    const int lane = threadIdx.x % kCeLanes;
    const T* x = logits + r * classes;
    T* d = dLogits + r * classes;
    const int target = decode_index(targets[r], classes);
    if (target < 0) {
        for (int j = lane; j < classes; j += kCeLanes) {
            d[j] = nan_val<T>();
        }
        return;
    }
    T m, s;
    ce_row_stats_warp(x, classes, lane, m, s);
    for (int j = lane; j < classes; j += kCeLanes) {
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

// losses family: the two networks' output losses. ABI: native-kernels/README.md.
// 1-D launches (blockDim.x = 256 by convention, not assumed):
//  * sigmoid_squared_error_loss: one thread per row b (n = batch), which walks the row's outputs in ascending j so
//    that the |miss| sum is added in the CPU's order, starting from absErrorSum[b] when accumulate != 0, else 0.
//  * seed_lstm_squared_loss: one thread per element of dh (n = batch * hidden); column 0 writes dh = 2 * diff and
//    lossSum[b], the other columns write 0.
// No aliasing between outputs and inputs is allowed (as Backend's default).
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void sigmoid_squared_error_loss(int batch, int outputs, const T* out, const T* target,
                                                           T* dPreact, T* absErrorSum, int accumulate) {
    const long long b = global_index();
    if (b >= batch) return;
    T err = accumulate ? absErrorSum[b] : T(0);
    const long long row = b * outputs;
    for (int j = 0; j < outputs; ++j) {
        err += sigmoid_squared_error_element(out[row + j], target[row + j], dPreact[row + j]);
    }
    absErrorSum[b] = err;
}

template <typename T>
__device__ __forceinline__ void seed_lstm_squared_loss(int batch, int hidden, const T* h, const T* target, T* dh,
                                                       T* lossSum, int accumulate) {
    const long long idx = global_index();
    const long long n = (long long) batch * hidden;
    if (idx >= n) return;
    const long long b = idx / hidden;
    const int j = (int) (idx - b * hidden);
    if (j != 0) {
        dh[idx] = T(0);
        return;
    }
    T dh0;
    const T loss = seed_lstm_squared_loss_element(h[idx], target[b], accumulate ? lossSum[b] : T(0),
                                                  accumulate != 0, dh0);
    dh[idx] = dh0;
    lossSum[b] = loss;
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_sigmoid_squared_error_loss_f32(int batch, int outputs, const float* out, const float* target,
                                                     float* dPreact, float* absErrorSum, int accumulate) {
    rnn4j::kernels::sigmoid_squared_error_loss<float>(batch, outputs, out, target, dPreact, absErrorSum, accumulate);
}

__global__ void rnn4j_sigmoid_squared_error_loss_f64(int batch, int outputs, const double* out, const double* target,
                                                     double* dPreact, double* absErrorSum, int accumulate) {
    rnn4j::kernels::sigmoid_squared_error_loss<double>(batch, outputs, out, target, dPreact, absErrorSum, accumulate);
}

__global__ void rnn4j_seed_lstm_squared_loss_f32(int batch, int hidden, const float* h, const float* target,
                                                 float* dh, float* lossSum, int accumulate) {
    rnn4j::kernels::seed_lstm_squared_loss<float>(batch, hidden, h, target, dh, lossSum, accumulate);
}

__global__ void rnn4j_seed_lstm_squared_loss_f64(int batch, int hidden, const double* h, const double* target,
                                                 double* dh, double* lossSum, int accumulate) {
    rnn4j::kernels::seed_lstm_squared_loss<double>(batch, hidden, h, target, dh, lossSum, accumulate);
}

} // extern "C"

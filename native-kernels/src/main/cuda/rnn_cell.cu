// rnn_cell family: the sigmoid layer of the binary-addition RNN. ABI: native-kernels/README.md.
// 1-D launch, one thread per element (blockDim.x = 256 by convention, not assumed). Aliasing: y may be x and dx may
// be dy (each thread reads its element before writing it), so no pointer here is __restrict__.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void sigmoid_forward(int n, const T* x, T* y) {
    const long long idx = global_index();
    if (idx >= n) return;
    y[idx] = sigmoid_forward_element(x[idx]);
}

template <typename T>
__device__ __forceinline__ void sigmoid_backward(int n, const T* dy, const T* y, T* dx) {
    const long long idx = global_index();
    if (idx >= n) return;
    dx[idx] = sigmoid_backward_element(dy[idx], y[idx]);
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_sigmoid_forward_f32(int n, const float* x, float* y) {
    rnn4j::kernels::sigmoid_forward<float>(n, x, y);
}

__global__ void rnn4j_sigmoid_forward_f64(int n, const double* x, double* y) {
    rnn4j::kernels::sigmoid_forward<double>(n, x, y);
}

__global__ void rnn4j_sigmoid_backward_f32(int n, const float* dy, const float* y, float* dx) {
    rnn4j::kernels::sigmoid_backward<float>(n, dy, y, dx);
}

__global__ void rnn4j_sigmoid_backward_f64(int n, const double* dy, const double* y, double* dx) {
    rnn4j::kernels::sigmoid_backward<double>(n, dy, y, dx);
}

} // extern "C"

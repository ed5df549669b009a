// sgd family: plain SGD. ABI: native-kernels/README.md.
// rnn4j_sgd_update: 1-D launch, one thread per element (blockDim.x = 256 by convention, not assumed):
// params[i] -= lr * grads[i]. lr is passed already rounded to the precision (float for _f32).
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void sgd_update(int n, T* params, const T* grads, T lr) {
    const long long idx = global_index();
    if (idx >= n) return;
    params[idx] = sgd_element(params[idx], grads[idx], lr);
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_sgd_update_f32(int n, float* params, const float* grads, float lr) {
    rnn4j::kernels::sgd_update<float>(n, params, grads, lr);
}

__global__ void rnn4j_sgd_update_f64(int n, double* params, const double* grads, double lr) {
    rnn4j::kernels::sgd_update<double>(n, params, grads, lr);
}

} // extern "C"

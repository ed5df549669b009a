// optim family: Adam and SGD with momentum, PyTorch's arithmetic, state in device memory. ABI: native-kernels/README.md.
//  * adam_prepare: one thread: t = step[0] + 1 (in T), step[0] = t, then the step's scalars in double (PyTorch
//    computes them in Python floats), -(lr / (1 - beta1^t)) and sqrt(1 - beta2^t), rounded to T into the first two T
//    slots of g_scalars. adam_update: one thread per element, reading them after the prepare kernel on the same
//    stream (so the float32 update does no double arithmetic; adam_prepare_f32 is the one float32 kernel that does).
//  * sgd_prepare: one thread: g_first_step = (step[0] == 0), then step[0] += 1. sgd_momentum_update: one thread per
//    element, buf = first ? g : buf * momentum + g, p = p + negLr * buf.
// The scalars passed already rounded to T: w = 1 - beta1, b2 = beta2, oneMinusB2 = 1 - beta2, eps, wd, negLr,
// momentum. No buffer may overlap another.
#include "rnn4j_math.cuh"

// The step's scalars, handed from a prepare kernel to its update kernel; this module's own, used by one stream.
// Adam's two are stored as T (float or double) in the first two T slots.
__device__ double g_scalars[2];
// SGD with momentum: 1 on the first step (the buffer starts as the gradient), else 0.
__device__ int g_first_step;

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void adam_prepare(T* step, double lr, double beta1, double beta2) {
    if (global_index() != 0) return;
    const T t = step[0] + T(1);
    step[0] = t;
    double negStepSize;
    double bc2Sqrt;
    adam_step_scalars((double) t, lr, beta1, beta2, negStepSize, bc2Sqrt);
    T* scalars = reinterpret_cast<T*>(g_scalars);
    scalars[0] = (T) negStepSize;
    scalars[1] = (T) bc2Sqrt;
}

template <typename T>
__device__ __forceinline__ void adam_update(int n, T* params, const T* grads, T* expAvg, T* expAvgSq, T w, T b2,
                                            T oneMinusB2, T eps, T wd, int decay) {
    const long long i = global_index();
    if (i >= n) return;
    T m = expAvg[i];
    T v = expAvgSq[i];
    const T* scalars = reinterpret_cast<const T*>(g_scalars);
    const T p = adam_element(params[i], grads[i], m, v, scalars[0], scalars[1], w, b2, oneMinusB2, eps, wd,
                             decay != 0);
    expAvg[i] = m;
    expAvgSq[i] = v;
    params[i] = p;
}

template <typename T>
__device__ __forceinline__ void sgd_prepare(T* step) {
    if (global_index() != 0) return;
    g_first_step = step[0] == T(0) ? 1 : 0;
    step[0] = step[0] + T(1);
}

template <typename T>
__device__ __forceinline__ void sgd_momentum_update(int n, T* params, const T* grads, T* buf, T negLr, T momentum,
                                                    T wd, int decay) {
    const long long i = global_index();
    if (i >= n) return;
    T b = buf[i];
    const T p = sgd_momentum_element(params[i], grads[i], b, g_first_step != 0, negLr, momentum, wd, decay != 0);
    buf[i] = b;
    params[i] = p;
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_adam_prepare_f32(float* step, double lr, double beta1, double beta2) {
    rnn4j::kernels::adam_prepare<float>(step, lr, beta1, beta2);
}

__global__ void rnn4j_adam_prepare_f64(double* step, double lr, double beta1, double beta2) {
    rnn4j::kernels::adam_prepare<double>(step, lr, beta1, beta2);
}

__global__ void rnn4j_adam_update_f32(int n, float* params, const float* grads, float* expAvg, float* expAvgSq,
                                      float w, float b2, float oneMinusB2, float eps, float wd, int decay) {
    rnn4j::kernels::adam_update<float>(n, params, grads, expAvg, expAvgSq, w, b2, oneMinusB2, eps, wd, decay);
}

__global__ void rnn4j_adam_update_f64(int n, double* params, const double* grads, double* expAvg, double* expAvgSq,
                                      double w, double b2, double oneMinusB2, double eps, double wd, int decay) {
    rnn4j::kernels::adam_update<double>(n, params, grads, expAvg, expAvgSq, w, b2, oneMinusB2, eps, wd, decay);
}

__global__ void rnn4j_sgd_prepare_f32(float* step) {
    rnn4j::kernels::sgd_prepare<float>(step);
}

__global__ void rnn4j_sgd_prepare_f64(double* step) {
    rnn4j::kernels::sgd_prepare<double>(step);
}

__global__ void rnn4j_sgd_momentum_update_f32(int n, float* params, const float* grads, float* buf, float negLr,
                                              float momentum, float wd, int decay) {
    rnn4j::kernels::sgd_momentum_update<float>(n, params, grads, buf, negLr, momentum, wd, decay);
}

__global__ void rnn4j_sgd_momentum_update_f64(int n, double* params, const double* grads, double* buf, double negLr,
                                              double momentum, double wd, int decay) {
    rnn4j::kernels::sgd_momentum_update<double>(n, params, grads, buf, negLr, momentum, wd, decay);
}

} // extern "C"

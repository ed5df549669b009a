// rnn4j_math.cuh -- the device math of rnn4j's CUDA kernels, in one header.
//
// Every per-element body of every kernel lives here as an RNN4J_HD function, so that the same code is compiled
// by nvcc for the device and by a plain host compiler (g++, or nvcc on a .cpp) for the host test
// native-kernels/src/test/host/kernel_math_test.cpp. The kernels in the *.cu files only index and call these.
//
// The numbers must be the Java CPU reference's (org.rnn4j.backend.cpu.CpuBackend64 / CpuBackend32):
//  * the same formulas in the same order of evaluation, written here as in the Java lines;
//  * float64: sigmoid(x) = 1.0 / (1.0 + exp(-x)), tanh in double;
//  * float32: storage and arithmetic in float, but exp and tanh evaluated in double and rounded once, as
//    CpuBackend32 does with (float) Math.exp(-x) and (float) Math.tanh(z);
//  * no fused multiply-add: every kernel is compiled with -fmad=false (and the host test with
//    -ffp-contract=off), so a*b+c rounds twice, as Java's does. With contraction on, nvcc would turn
//    "g * i + sPrev * f", "acc += a * b", "p -= lr * g" into FMAs and the results would differ from the CPU's in
//    the last bit. Division and square root stay IEEE-rounded (-prec-div=true, no --use_fast_math) and
//    denormals are kept (-ftz=false).
// exp and tanh themselves are the CUDA math library's (max error 1-2 ulp), which may differ from Java's Math.exp /
// Math.tanh in the last bit for some inputs; everything around them is bit-for-bit the Java arithmetic.
//
// LSTM gate layout: [i | f | g | o], four blocks of H (org.rnn4j.backend.GateLayout). The ABI of the kernels
// (entry points, launch configurations, aliasing) is documented in native-kernels/README.md.
#ifndef RNN4J_MATH_CUH
#define RNN4J_MATH_CUH

#ifdef __CUDACC__
#define RNN4J_HD __host__ __device__
#else
#define RNN4J_HD
#include <math.h>
#endif

// The gate order inside a (B, 4H) row, mirroring org.rnn4j.backend.GateLayout (the one documented definition;
// GateLayoutAgreementTest in the cuda module checks that these values agree with it).
#define RNN4J_GATE_I 0
#define RNN4J_GATE_F 1
#define RNN4J_GATE_G 2
#define RNN4J_GATE_O 3

namespace rnn4j {

// Threads per block of every elementwise kernel (KernelImages.ELEMENTWISE_BLOCK); the kernels do not assume it.
constexpr int kElementwiseBlock = 256;
// Tile edge of the fallback GEMM (KernelImages.GEMM_TILE): blocks of (kGemmTile, kGemmTile) threads.
constexpr int kGemmTile = 16;

// ---------------------------------------------------------------------------------------------------------------
// Activations and their derivatives from the outputs.

// float64: 1 / (1 + Math.exp(-x)).
RNN4J_HD inline double sigmoid(double x) {
    return 1.0 / (1.0 + exp(-x));
}

// float32: 1 / (1 + (float) Math.exp(-x)) -- exp in double, rounded once, the rest in float.
RNN4J_HD inline float sigmoid(float x) {
    return 1.0f / (1.0f + (float) exp(-(double) x));
}

// float64: Math.tanh(z).
RNN4J_HD inline double tanh_act(double z) {
    return ::tanh(z);
}

// float32: (float) Math.tanh(z).
RNN4J_HD inline float tanh_act(float z) {
    return (float) ::tanh((double) z);
}

// dsigmoid/dx from the output y: y * (1 - y).
template <typename T>
RNN4J_HD inline T sigmoid_grad_from_output(T y) {
    return y * (T(1) - y);
}

// dtanh/dz from the output y: 1 - y * y.
template <typename T>
RNN4J_HD inline T tanh_grad_from_output(T y) {
    return T(1) - y * y;
}

// Math.abs: fabs for both, so that abs(-0.0) is +0.0.
RNN4J_HD inline double abs_val(double x) {
    return fabs(x);
}

RNN4J_HD inline float abs_val(float x) {
    return fabsf(x);
}

// ---------------------------------------------------------------------------------------------------------------
// rnn_cell.cu

// rnn4j_sigmoid_forward: y = sigmoid(x).
template <typename T>
RNN4J_HD inline T sigmoid_forward_element(T x) {
    return sigmoid(x);
}

// rnn4j_sigmoid_backward: dx = dy * (y * (1 - y)), as CpuBackend: dyv * (out * (1 - out)).
template <typename T>
RNN4J_HD inline T sigmoid_backward_element(T dy, T y) {
    return dy * (y * (T(1) - y));
}

// ---------------------------------------------------------------------------------------------------------------
// seed_lstm_cell.cu

// One (b, j) of the seed LSTM forward. z* are the pre-activations (without bias) of gates i, f, g, o, b* the
// biases; writes the post-activation gates, the new cell state s and the output h.
//   i = sigmoid(zi + bi), f = sigmoid(zf + bf), g = tanh(zg + bg), o = sigmoid(zo + bo)
//   s = g * i + sPrev * f
//   h = s * o
template <typename T>
RNN4J_HD inline void seed_lstm_forward_element(T zi, T zf, T zg, T zo, T bi, T bf, T bg, T bo, T sPrev,
                                               T& gi, T& gf, T& gg, T& go, T& s, T& h) {
    gi = sigmoid(zi + bi);
    gf = sigmoid(zf + bf);
    gg = tanh_act(zg + bg);
    go = sigmoid(zo + bo);
    const T state = gg * gi + sPrev * gf;
    s = state;
    h = state * go;
}

// One (b, j) of the seed LSTM backward, in CpuBackend64's order:
//   ds = o * dh + dsNext
//   dO = s * dh, dI = g * ds, dG = i * ds, dF = sPrev * ds
//   di = (1 - i) * i * dI, df = (1 - f) * f * dF, do = (1 - o) * o * dO, dg = (1 - g * g) * dG
//   dsPrev = ds * f
template <typename T>
RNN4J_HD inline void seed_lstm_backward_element(T gi, T gf, T gg, T go, T s, T sPrev, T dh, T dsNext,
                                                T& di, T& df, T& dg, T& dout, T& dsPrev) {
    const T ds = go * dh + dsNext;
    const T dO = s * dh;
    const T dI = gg * ds;
    const T dG = gi * ds;
    const T dF = sPrev * ds;
    di = (T(1) - gi) * gi * dI;
    df = (T(1) - gf) * gf * dF;
    dout = (T(1) - go) * go * dO;
    dg = (T(1) - gg * gg) * dG;
    dsPrev = ds * gf;
}

// ---------------------------------------------------------------------------------------------------------------
// standard_lstm_cell.cu

// One (b, j) of the standard LSTM forward (PyTorch's nn.LSTM). z* are the pre-activations without bias of gates
// i, f, g, o, bi* / bh* the two biases (added in that order); writes the post-activation gates, the new cell state c
// and the output h, in CpuBackend64's order:
//   i = sigmoid(zi + bii + bhi), f = sigmoid(zf + bif + bhf), g = tanh(zg + big + bhg), o = sigmoid(zo + bio + bho)
//   c = f * cPrev + i * g
//   h = o * tanh(c)
template <typename T>
RNN4J_HD inline void standard_lstm_forward_element(T zi, T zf, T zg, T zo, T bii, T bif, T big, T bio, T bhi, T bhf,
                                                   T bhg, T bho, T cPrev, T& gi, T& gf, T& gg, T& go, T& c, T& h) {
    gi = sigmoid(zi + bii + bhi);
    gf = sigmoid(zf + bif + bhf);
    gg = tanh_act(zg + big + bhg);
    go = sigmoid(zo + bio + bho);
    const T cell = gf * cPrev + gi * gg;
    c = cell;
    h = go * tanh_act(cell);
}

// One (b, j) of the standard LSTM backward, in CpuBackend64's order (products left to right):
//   tc = tanh(c)
//   dc = dh * o * (1 - tc * tc) + dcNext
//   di = dc * g * i * (1 - i), df = dc * cPrev * f * (1 - f), dg = dc * i * (1 - g * g), do = dh * tc * o * (1 - o)
//   dcPrev = dc * f
template <typename T>
RNN4J_HD inline void standard_lstm_backward_element(T gi, T gf, T gg, T go, T c, T cPrev, T dh, T dcNext,
                                                    T& di, T& df, T& dg, T& dout, T& dcPrev) {
    const T tc = tanh_act(c);
    const T dc = dh * go * (T(1) - tc * tc) + dcNext;
    di = dc * gg * gi * (T(1) - gi);
    df = dc * cPrev * gf * (T(1) - gf);
    dg = dc * gi * (T(1) - gg * gg);
    dout = dh * tc * go * (T(1) - go);
    dcPrev = dc * gf;
}

// ---------------------------------------------------------------------------------------------------------------
// losses.cu

// One output of the sigmoid squared-error loss: writes dPreact = -miss * (o * (1 - o)) with miss = t - o (the
// seed's layer_2_error = y - layer_2) and returns |miss|, which the caller adds to the row's error in column order.
template <typename T>
RNN4J_HD inline T sigmoid_squared_error_element(T out, T target, T& dPreact) {
    const T miss = target - out;
    dPreact = -miss * (out * (T(1) - out));
    return abs_val(miss);
}

// One row of the seed LSTM's squared loss on h[b, 0]: diff = h - target; writes dh0 = 2 * diff and returns the new
// loss sum, lossSum + diff * diff when accumulating, else diff * diff.
template <typename T>
RNN4J_HD inline T seed_lstm_squared_loss_element(T h0, T target, T lossSumOld, bool accumulate, T& dh0) {
    const T diff = h0 - target;
    const T loss = diff * diff;
    dh0 = T(2) * diff;
    return accumulate ? lossSumOld + loss : loss;
}

// ---------------------------------------------------------------------------------------------------------------
// reduce.cu

// Column j of sum_rows: start (dst[j] when accumulating, else 0), then add src[r * cols + j] for r ascending.
template <typename T>
RNN4J_HD inline T sum_rows_column(int rows, int cols, int j, const T* src, T start) {
    T sum = start;
    for (int r = 0; r < rows; ++r) {
        sum += src[(long long) r * cols + j];
    }
    return sum;
}

// ---------------------------------------------------------------------------------------------------------------
// sgd.cu

// params -= lr * grads.
template <typename T>
RNN4J_HD inline T sgd_element(T param, T grad, T lr) {
    return param - lr * grad;
}

// ---------------------------------------------------------------------------------------------------------------
// gemm.cu: row-major C(m, n) = alpha * op(A) * op(B) + beta * C.

// Index of element (r, c) of op(X) in X's buffer: X row-major with leading dimension ld, stored as op(X) or, when
// trans, as its transpose.
RNN4J_HD inline long long gemm_index(int trans, int ld, int r, int c) {
    return trans ? (long long) c * ld + r : (long long) r * ld + c;
}

// Which element of a kGemmTile x kGemmTile tile of op(X) (tile rows from row0, columns from col0) the thread
// (ty, tx) loads: the thread walks the stored matrix's contiguous dimension with tx, so that a warp's loads are
// coalesced whether or not X is transposed. Returns the tile-local (lr, lc).
RNN4J_HD inline void gemm_tile_slot(int trans, int ty, int tx, int& lr, int& lc) {
    if (trans) {
        lr = tx; // stored transposed: op(X)(r, c) at c * ld + r, contiguous in r
        lc = ty;
    } else {
        lr = ty; // stored as is: contiguous in c
        lc = tx;
    }
}

// One product term of the dot product, accumulated in ascending p from acc = 0 (Java: acc[j] += aip * b).
template <typename T>
RNN4J_HD inline T gemm_accumulate(T acc, T a, T b) {
    return acc + a * b;
}

// The stored value: alpha * acc, plus beta * C when beta != 0 (C is not read when beta == 0).
template <typename T>
RNN4J_HD inline T gemm_store(T alpha, T acc, T beta, const T* c) {
    return beta == T(0) ? alpha * acc : alpha * acc + beta * *c;
}

#ifdef __CUDACC__
// The element a thread of a 1-D launch handles; 64-bit so that the last block of an n near 2^31 cannot wrap.
__device__ inline long long global_index() {
    return (long long) blockIdx.x * blockDim.x + threadIdx.x;
}
#endif

} // namespace rnn4j

#endif // RNN4J_MATH_CUH

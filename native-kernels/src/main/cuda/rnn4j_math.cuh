// rnn4j_math.cuh -- the device math of rnn4j's CUDA kernels, in one header.
//
// Every per-element body of every kernel lives here as an RNN4J_HD function, so that the same code is compiled
// by nvcc for the device and by a plain host compiler (g++, or nvcc on a .cpp) for the host test
// native-kernels/src/test/host/kernel_math_test.cpp. The kernels in the *.cu files only index and call these.
//
// float64 must be the Java CPU reference's numbers (org.rnn4j.backend.cpu.CpuBackend64): the same formulas in the
// same order of evaluation, written here as in the Java lines, sigmoid(x) = 1.0 / (1.0 + exp(-x)), tanh, exp and log
// in double; no fused multiply-add: every kernel is compiled with -fmad=false (and the host test with
// -ffp-contract=off), so a*b+c rounds twice, as Java's does. With contraction on, nvcc would turn "g * i + sPrev * f",
// "acc += a * b", "p -= lr * g" into FMAs and the results would differ from the CPU's in the last bit. Division and
// square root stay IEEE-rounded (-prec-div=true, no --use_fast_math) and denormals are kept (-ftz=false). exp and
// tanh themselves are the CUDA math library's (max error 1-2 ulp), which may differ from Java's Math.exp / Math.tanh
// in the last bit for some inputs; everything around them is bit-for-bit the Java arithmetic.
//
// float32 is computed in float32 (no conversion to double anywhere in a float32 kernel but adam_prepare's
// PyTorch scalars; FastKernelsPtxTest checks the PTX):
//  * exp, tanh and log are CUDA's expf, tanhf and logf (max 2, 2 and 1 ulp from the correctly rounded result, CUDA
//    C++ Programming Guide, Mathematical Functions appendix), where CpuBackend32 rounds Math.exp / Math.tanh /
//    Math.log once to float (at most about 1/2 ulp); sqrt is sqrtf, IEEE-rounded, the same bits as
//    (float) Math.sqrt (rounding a correctly rounded double square root to float is correctly rounded);
//  * in the bodies that call them (the activations, the LSTM cells' forward passes, the standard cell's backward
//    pass), a*b + c is an explicit fmaf where the formula has one (madd below);
//  * the bodies without a transcendental function (the seed cell's backward pass, sigmoid's delta, SGD, Adam, SGD
//    with momentum, MSE, the norms, bias-add, embedding, dropout, the exact GEMM) keep the Java order bit for bit: they
//    are memory-bound, an FMA would buy nothing and lose bit parity with the CPU.
// The parity bound this gives against CpuBackend32 is derived in docs/parity.md and checked, under the documented
// worst-case ulp errors of expf/tanhf/logf, by the host test (RNN4J_F32_MATH below).
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

// The float32 transcendental functions: CUDA's expf, tanhf, logf. RNN4J_F32_MATH(f, x) is f(x) in the kernels; the
// host test defines it before including this header to move each result by a chosen number of ulps, so that the
// parity bound is checked under the CUDA documentation's worst-case errors rather than the host libm's.
#ifndef RNN4J_F32_MATH
#define RNN4J_F32_MATH(f, x) f(x)
#endif

RNN4J_HD inline float exp_f32(float x) {
    return RNN4J_F32_MATH(expf, x);
}

RNN4J_HD inline float tanh_f32(float x) {
    return RNN4J_F32_MATH(tanhf, x);
}

RNN4J_HD inline float log_f32(float x) {
    return RNN4J_F32_MATH(logf, x);
}

// a * b + c: for float one fused multiply-add (one rounding); for double the Java order, a * b rounded, then the sum
// rounded (c is evaluated by the caller, as in the Java expression).
RNN4J_HD inline float madd(float a, float b, float c) {
    return fmaf(a, b, c);
}

RNN4J_HD inline double madd(double a, double b, double c) {
    return a * b + c;
}

// 1 - y * y: for float fmaf(-y, y, 1), for double the Java order.
RNN4J_HD inline float one_minus_square(float y) {
    return fmaf(-y, y, 1.0f);
}

RNN4J_HD inline double one_minus_square(double y) {
    return 1.0 - y * y;
}

// float64: 1 / (1 + Math.exp(-x)).
RNN4J_HD inline double sigmoid(double x) {
    return 1.0 / (1.0 + exp(-x));
}

// float32: 1 / (1 + expf(-x)), all in float.
RNN4J_HD inline float sigmoid(float x) {
    return 1.0f / (1.0f + exp_f32(-x));
}

// float64: Math.tanh(z).
RNN4J_HD inline double tanh_act(double z) {
    return ::tanh(z);
}

// float32: tanhf(z).
RNN4J_HD inline float tanh_act(float z) {
    return tanh_f32(z);
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

// One (b, j) of the seed LSTM forward (float: s = fmaf(g, i, sPrev * f)). z* are the pre-activations (without bias) of gates i, f, g, o, b* the
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
    const T state = madd(gg, gi, sPrev * gf); // float: fmaf(g, i, sPrev * f)
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

// One (b, j) of the standard LSTM forward (PyTorch's nn.LSTM; float: c = fmaf(f, cPrev, i * g)). z* are the pre-activations without bias of gates
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
    const T cell = madd(gf, cPrev, gi * gg); // float: fmaf(f, cPrev, i * g)
    c = cell;
    h = go * tanh_act(cell);
}

// One (b, j) of the standard LSTM backward, in CpuBackend64's order (products left to right; float: the two FMAs of
// the dc line):
//   tc = tanh(c)
//   dc = dh * o * (1 - tc * tc) + dcNext
//   di = dc * g * i * (1 - i), df = dc * cPrev * f * (1 - f), dg = dc * i * (1 - g * g), do = dh * tc * o * (1 - o)
//   dcPrev = dc * f
template <typename T>
RNN4J_HD inline void standard_lstm_backward_element(T gi, T gf, T gg, T go, T c, T cPrev, T dh, T dcNext,
                                                    T& di, T& df, T& dg, T& dout, T& dcPrev) {
    const T tc = tanh_act(c);
    const T dc = madd(dh * go, one_minus_square(tc), dcNext); // float: fmaf(dh * o, fmaf(-tc, tc, 1), dcNext)
    di = dc * gg * gi * (T(1) - gi);
    df = dc * cPrev * gf * (T(1) - gf);
    dg = dc * gi * (T(1) - gg * gg);
    dout = dh * tc * go * (T(1) - go);
    dcPrev = dc * gf;
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

// ---------------------------------------------------------------------------------------------------------------
// Shared by the generic operations (losses.cu, reduce.cu, embedding.cu, dropout.cu, optim.cu).

// exp, log and sqrt: in double as the Java reference computes them; in float with CUDA's expf / logf and the
// IEEE-rounded sqrtf (the same bits as CpuBackend32's (float) Math.sqrt(v)).
RNN4J_HD inline double exp_p(double x) {
    return exp(x);
}

RNN4J_HD inline float exp_p(float x) {
    return exp_f32(x);
}

RNN4J_HD inline double log_p(double x) {
    return log(x);
}

RNN4J_HD inline float log_p(float x) {
    return log_f32(x);
}

RNN4J_HD inline double sqrt_p(double x) {
    return sqrt(x);
}

RNN4J_HD inline float sqrt_p(float x) {
    return sqrtf(x);
}

// A quiet NaN of T, made in T (no float conversion of a double NaN).
template <typename T>
RNN4J_HD inline T nan_val();

template <>
RNN4J_HD inline float nan_val<float>() {
    return nanf("");
}

template <>
RNN4J_HD inline double nan_val<double>() {
    return nan("");
}

// An index held as a value of T (org.rnn4j.backend.Backend: integer indices): the index when the value is an integer
// in [0, limit), else -1 (NaN, negative, fractional, too large). Compared before the conversion, which is undefined
// for values outside int.
template <typename T>
RNN4J_HD inline int decode_index(T v, int limit) {
    if (!(v >= T(0) && v < (T) limit)) {
        return -1;
    }
    const int k = (int) v;
    return (T) k == v ? k : -1;
}

// The deterministic reduction (Backend's class comment): kReduceLanes lanes per chunk, at most kReduceMaxChunks
// chunks; lane t adds items t, t + 256, ... of its chunk from 0, then lane[t] += lane[t + s] for s = 128 .. 1.
constexpr int kReduceLanes = 256;
constexpr int kReduceMaxChunks = 65536;
// Base chunks: Backend.REDUCE_BASE_ELEMENTS (l2 norm, mse) and Backend.REDUCE_BASE_ROWS (cross-entropy mean).
constexpr int kReduceBaseElements = 4096;
constexpr int kReduceBaseRows = 256;

// Backend.reduceChunk: max(base, ceil(n / 65536)) rounded up to a multiple of 256.
RNN4J_HD inline int reduce_chunk(int n, int base) {
    long long c = ((long long) n + kReduceMaxChunks - 1) / kReduceMaxChunks;
    if (c < base) {
        c = base;
    }
    return (int) ((c + kReduceLanes - 1) / kReduceLanes * kReduceLanes);
}

// The pairwise stage over kReduceLanes lane sums, as one thread would do it (the kernels do the same levels with one
// thread per lane and a barrier between levels): lanes[0] ends with the sum.
template <typename T>
RNN4J_HD inline T lane_tree(T* lanes) {
    for (int s = kReduceLanes / 2; s > 0; s >>= 1) {
        for (int t = 0; t < s; ++t) {
            lanes[t] = lanes[t] + lanes[t + s];
        }
    }
    return lanes[0];
}

// ---------------------------------------------------------------------------------------------------------------
// losses.cu: softmax cross-entropy and mean squared error.

// The cross-entropy kernels run one warp of kCeLanes threads per row (kCeRowsPerBlock rows per block of 256), with a
// partition of the classes that depends on the size only: lane t takes classes t, t + 32, t + 64, ... in ascending
// order; the 32 lane results are then combined pairwise, lanes[t] = combine(lanes[t], lanes[t + s]) for s = 16, 8, 4,
// 2, 1 (t < s), as lane_tree_n does (the kernels with warp shuffles, the host test with an array). The same order
// on every GPU; no atomics.
constexpr int kCeLanes = 32;
constexpr int kCeRowsPerBlock = kElementwiseBlock / kCeLanes;

// Lane t's largest value over its classes, scanned with > from -infinity (NaN never wins a comparison; a row with a
// NaN gets a NaN sum below, as on the CPU).
template <typename T>
RNN4J_HD inline T ce_lane_max(const T* x, int classes, int lane) {
    T m = -(T) INFINITY;
    for (int j = lane; j < classes; j += kCeLanes) {
        if (x[j] > m) {
            m = x[j];
        }
    }
    return m;
}

// Lane t's sum of exp(x[j] - m) over its classes, from 0, ascending.
template <typename T>
RNN4J_HD inline T ce_lane_sum_exp(const T* x, int classes, int lane, T m) {
    T s = T(0);
    for (int j = lane; j < classes; j += kCeLanes) {
        s += exp_p(x[j] - m);
    }
    return s;
}

template <typename T>
RNN4J_HD inline T combine_max(T a, T b) {
    return b > a ? b : a;
}

template <typename T>
RNN4J_HD inline T combine_sum(T a, T b) {
    return a + b;
}

// The pairwise stage over n (a power of two) lane values, as one thread would do it: lanes[0] ends with the result.
template <typename T, typename F>
RNN4J_HD inline T lane_tree_n(T* lanes, int n, F combine) {
    for (int s = n / 2; s > 0; s >>= 1) {
        for (int t = 0; t < s; ++t) {
            lanes[t] = combine(lanes[t], lanes[t + s]);
        }
    }
    return lanes[0];
}

// A row's max and sum of exponentials in the warp's order, computed by one thread (the host test's emulation of the
// kernels' warp; the kernels compute the lanes in parallel).
template <typename T>
RNN4J_HD inline void ce_row_stats_lanes(const T* x, int classes, T& m, T& s) {
    T lanes[kCeLanes];
    for (int t = 0; t < kCeLanes; ++t) {
        lanes[t] = ce_lane_max(x, classes, t);
    }
    m = lane_tree_n(lanes, kCeLanes, combine_max<T>);
    for (int t = 0; t < kCeLanes; ++t) {
        lanes[t] = ce_lane_sum_exp(x, classes, t, m);
    }
    s = lane_tree_n(lanes, kCeLanes, combine_sum<T>);
}

// One row's loss from its statistics: -((x[t] - m) - log(s)); NaN for a bad target.
template <typename T>
RNN4J_HD inline T cross_entropy_loss(const T* x, int target, T m, T s) {
    return target < 0 ? nan_val<T>() : -((x[target] - m) - log_p(s));
}

// One row's cross-entropy in the warp's order (host emulation of rnn4j_cross_entropy_forward).
template <typename T>
RNN4J_HD inline T cross_entropy_row_lanes(const T* x, int classes, int target) {
    if (target < 0) {
        return nan_val<T>();
    }
    T m, s;
    ce_row_stats_lanes(x, classes, m, s);
    return cross_entropy_loss(x, target, m, s);
}

// One logit's gradient: (exp(x - m) / s - [target]) * scale.
template <typename T>
RNN4J_HD inline T cross_entropy_grad_element(T x, T m, T s, bool isTarget, T scale) {
    const T prob = exp_p(x - m) / s;
    return (isTarget ? prob - T(1) : prob) * scale;
}

// One term of the MSE sum: (p - t)^2.
template <typename T>
RNN4J_HD inline T mse_term(T pred, T target) {
    const T d = pred - target;
    return d * d;
}

// One element of the MSE gradient: (p - t) * scale.
template <typename T>
RNN4J_HD inline T mse_grad_element(T pred, T target, T scale) {
    return (pred - target) * scale;
}

// ---------------------------------------------------------------------------------------------------------------
// reduce.cu: bias-add, the L2 norm's terms, the clipping factor.

template <typename T>
RNN4J_HD inline T bias_add_element(T x, T bias) {
    return x + bias;
}

template <typename T>
RNN4J_HD inline T square_term(T x) {
    return x * x;
}

// PyTorch's clip_grad_norm_: max_norm / (norm + 1e-6) as torch evaluates it (a reciprocal, then a product), clamped
// to at most 1 with NaN kept: c > 1 ? 1 : c.
template <typename T>
RNN4J_HD inline T clip_coefficient(T norm, T maxNorm) {
    const T c = T(1) / (norm + (T) 1e-6) * maxNorm;
    return c > T(1) ? T(1) : c;
}

// ---------------------------------------------------------------------------------------------------------------
// dropout.cu: Philox 4x32-10 (Random123), and the mask.

constexpr unsigned int kPhiloxM0 = 0xD2511F53u;
constexpr unsigned int kPhiloxM1 = 0xCD9E8D57u;
constexpr unsigned int kPhiloxW0 = 0x9E3779B9u;
constexpr unsigned int kPhiloxW1 = 0xBB67AE85u;

// The four words of Philox 4x32-10 for counter c[0..3] and key (k0, k1), written to out[0..3] (org.rnn4j.backend.Philox).
RNN4J_HD inline void philox4x32_10(unsigned int c0, unsigned int c1, unsigned int c2, unsigned int c3,
                                   unsigned int k0, unsigned int k1, unsigned int* out) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += kPhiloxW0;
            k1 += kPhiloxW1;
        }
        const unsigned long long p0 = (unsigned long long) kPhiloxM0 * c0;
        const unsigned long long p1 = (unsigned long long) kPhiloxM1 * c2;
        const unsigned int hi0 = (unsigned int) (p0 >> 32), lo0 = (unsigned int) p0;
        const unsigned int hi1 = (unsigned int) (p1 >> 32), lo1 = (unsigned int) p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

// One element's mask: dropped (0) when its word is below the threshold floor(p * 2^32), else scale = 1 / (1 - p).
template <typename T>
RNN4J_HD inline T dropout_mask(unsigned int word, unsigned int threshold, T scale) {
    return word < threshold ? T(0) : scale;
}

// ---------------------------------------------------------------------------------------------------------------
// optim.cu: Adam and SGD with momentum (PyTorch's single-tensor arithmetic; Backend.adamUpdate, sgdMomentumUpdate).

// The step's scalars, in double as PyTorch computes them in Python: -(lr / (1 - beta1^t)) and sqrt(1 - beta2^t).
RNN4J_HD inline void adam_step_scalars(double t, double lr, double beta1, double beta2, double& negStepSize,
                                       double& bc2Sqrt) {
    negStepSize = -(lr / (1 - pow(beta1, t)));
    bc2Sqrt = sqrt(1 - pow(beta2, t));
}

// One element of Adam; returns the new parameter and updates m and v. The scalars are already rounded to T;
// w = 1 - beta1 (torch.lerp's weight), oneMinusB2 = 1 - beta2.
template <typename T>
RNN4J_HD inline T adam_element(T p, T g, T& m, T& v, T negStepSize, T bc2Sqrt, T w, T b2, T oneMinusB2, T eps,
                               T wd, bool decay) {
    if (decay) {
        g = g + wd * p;
    }
    m = w < T(0.5) ? m + w * (g - m) : g - (g - m) * (T(1) - w);
    v = v * b2 + oneMinusB2 * g * g;
    const T denom = sqrt_p(v) / bc2Sqrt + eps;
    return p + negStepSize * m / denom;
}

// One element of SGD with momentum; returns the new parameter and updates buf.
template <typename T>
RNN4J_HD inline T sgd_momentum_element(T p, T g, T& buf, bool first, T negLr, T momentum, T wd, bool decay) {
    if (decay) {
        g = g + wd * p;
    }
    buf = first ? g : buf * momentum + g;
    return p + negLr * buf;
}

#ifdef __CUDACC__
// The element a thread of a 1-D launch handles; 64-bit so that the last block of an n near 2^31 cannot wrap.
__device__ inline long long global_index() {
    return (long long) blockIdx.x * blockDim.x + threadIdx.x;
}

// The pairwise stage of the deterministic reduction over a block of kReduceLanes threads, thread t holding lane t's
// sum: lanes combined in shared memory as lane_tree does. Every thread gets the sum. Called at most once per kernel.
template <typename T>
__device__ inline T block_tree_sum(T acc) {
    __shared__ double raw[kReduceLanes]; // room for kReduceLanes of T (float or double)
    T* lanes = reinterpret_cast<T*>(raw);
    const int t = threadIdx.x;
    lanes[t] = acc;
    __syncthreads();
    for (int s = kReduceLanes / 2; s > 0; s >>= 1) {
        if (t < s) {
            lanes[t] = lanes[t] + lanes[t + s];
        }
        __syncthreads();
    }
    return lanes[0];
}

// A block's part of the deterministic reduction: blockDim.x must be kReduceLanes. Lane (thread) t adds
// item(start + t), item(start + t + 256), ... below end from 0, then the lanes are combined pairwise in shared memory
// as lane_tree does. Every thread gets the sum. Called at most once per kernel.
template <typename T, typename F>
__device__ inline T block_lane_sum(long long start, long long end, F item) {
    T acc = T(0);
    for (long long i = start + threadIdx.x; i < end; i += kReduceLanes) {
        acc += item(i);
    }
    return block_tree_sum(acc);
}

// The warp's pairwise stage (lane_tree_n over kCeLanes lanes, with shuffles): at level s lane t < s combines its
// value with lane t + s's value of the previous level, exactly lanes[t] = combine(lanes[t], lanes[t + s]); lane 0's
// result is then given to every lane. All 32 lanes of the warp must take part.
template <typename T, typename F>
__device__ inline T warp_tree(T v, F combine) {
    for (int s = kCeLanes / 2; s > 0; s >>= 1) {
        const T other = __shfl_down_sync(0xffffffffu, v, s);
        if ((int) (threadIdx.x % kCeLanes) < s) {
            v = combine(v, other);
        }
    }
    return __shfl_sync(0xffffffffu, v, 0);
}

// A row's max and sum of exponentials, computed by the calling warp (ce_row_stats_lanes' order); every lane gets both.
template <typename T>
__device__ inline void ce_row_stats_warp(const T* x, int classes, int lane, T& m, T& s) {
    m = warp_tree(ce_lane_max(x, classes, lane), combine_max<T>);
    s = warp_tree(ce_lane_sum_exp(x, classes, lane, m), combine_sum<T>);
}
#endif

} // namespace rnn4j

#endif // RNN4J_MATH_CUH

// standard_lstm_cell family: the standard LSTM cell (PyTorch's nn.LSTM, cuDNN's), one time step.
// ABI: native-kernels/README.md.
// Gates and pre-activations are (B, 4H) row-major, row b at b * 4H, in the layout [i | f | g | o] (blocks of H);
// the two biases are (4H); states are (B, H). 1-D launch over n = batch * hidden, one thread per (b, j) with
// b = idx / hidden, j = idx % hidden (blockDim.x = 256 by convention, not assumed).
// Aliasing: in the forward gates may be preact (each thread reads its four pre-activations before writing its four
// gates); in the backward dcPrev may be dcNext. So no pointer here is __restrict__.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void standard_lstm_forward(int batch, int hidden, const T* preact, const T* biasIh,
                                                      const T* biasHh, const T* cPrev, T* gates, T* c, T* h) {
    const long long idx = global_index();
    const long long n = (long long) batch * hidden;
    if (idx >= n) return;
    const long long b = idx / hidden;
    const int j = (int) (idx - b * hidden);
    const long long row = b * 4 * hidden; // row b of the (B, 4H) matrices
    const long long iOff = (long long) RNN4J_GATE_I * hidden + j, fOff = (long long) RNN4J_GATE_F * hidden + j;
    const long long gOff = (long long) RNN4J_GATE_G * hidden + j, oOff = (long long) RNN4J_GATE_O * hidden + j;
    const T zi = preact[row + iOff];
    const T zf = preact[row + fOff];
    const T zg = preact[row + gOff];
    const T zo = preact[row + oOff];
    T gi, gf, gg, go, cell, out;
    standard_lstm_forward_element(zi, zf, zg, zo, biasIh[iOff], biasIh[fOff], biasIh[gOff], biasIh[oOff],
                                  biasHh[iOff], biasHh[fOff], biasHh[gOff], biasHh[oOff], cPrev[idx],
                                  gi, gf, gg, go, cell, out);
    gates[row + iOff] = gi;
    gates[row + fOff] = gf;
    gates[row + gOff] = gg;
    gates[row + oOff] = go;
    c[idx] = cell;
    h[idx] = out;
}

template <typename T>
__device__ __forceinline__ void standard_lstm_backward(int batch, int hidden, const T* gates, const T* c,
                                                       const T* cPrev, const T* dh, const T* dcNext, T* dPreact,
                                                       T* dcPrev) {
    const long long idx = global_index();
    const long long n = (long long) batch * hidden;
    if (idx >= n) return;
    const long long b = idx / hidden;
    const int j = (int) (idx - b * hidden);
    const long long row = b * 4 * hidden;
    const long long iOff = (long long) RNN4J_GATE_I * hidden + j, fOff = (long long) RNN4J_GATE_F * hidden + j;
    const long long gOff = (long long) RNN4J_GATE_G * hidden + j, oOff = (long long) RNN4J_GATE_O * hidden + j;
    T di, df, dg, dout, dcp;
    standard_lstm_backward_element(gates[row + iOff], gates[row + fOff], gates[row + gOff], gates[row + oOff],
                                   c[idx], cPrev[idx], dh[idx], dcNext[idx], di, df, dg, dout, dcp);
    dPreact[row + iOff] = di;
    dPreact[row + fOff] = df;
    dPreact[row + gOff] = dg;
    dPreact[row + oOff] = dout;
    dcPrev[idx] = dcp;
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_standard_lstm_forward_f32(int batch, int hidden, const float* preact, const float* biasIh,
                                                const float* biasHh, const float* cPrev, float* gates, float* c,
                                                float* h) {
    rnn4j::kernels::standard_lstm_forward<float>(batch, hidden, preact, biasIh, biasHh, cPrev, gates, c, h);
}

__global__ void rnn4j_standard_lstm_forward_f64(int batch, int hidden, const double* preact, const double* biasIh,
                                                const double* biasHh, const double* cPrev, double* gates, double* c,
                                                double* h) {
    rnn4j::kernels::standard_lstm_forward<double>(batch, hidden, preact, biasIh, biasHh, cPrev, gates, c, h);
}

__global__ void rnn4j_standard_lstm_backward_f32(int batch, int hidden, const float* gates, const float* c,
                                                 const float* cPrev, const float* dh, const float* dcNext,
                                                 float* dPreact, float* dcPrev) {
    rnn4j::kernels::standard_lstm_backward<float>(batch, hidden, gates, c, cPrev, dh, dcNext, dPreact, dcPrev);
}

__global__ void rnn4j_standard_lstm_backward_f64(int batch, int hidden, const double* gates, const double* c,
                                                 const double* cPrev, const double* dh, const double* dcNext,
                                                 double* dPreact, double* dcPrev) {
    rnn4j::kernels::standard_lstm_backward<double>(batch, hidden, gates, c, cPrev, dh, dcNext, dPreact, dcPrev);
}

} // extern "C"

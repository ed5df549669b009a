// seed_lstm_cell family: the seed LSTM cell (nicodjimenez), one time step. ABI: native-kernels/README.md.
// Gates and pre-activations are (B, 4H) row-major, row b at b * 4H, in the layout [i | f | g | o] (blocks of H);
// states are (B, H). 1-D launch over n = batch * hidden, one thread per (b, j) with b = idx / hidden,
// j = idx % hidden (blockDim.x = 256 by convention, not assumed).
// Aliasing: in the forward gates may be preact (each thread reads its four pre-activations before writing its four
// gates); in the backward dsPrev may be dsNext. So no pointer here is __restrict__.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void seed_lstm_forward(int batch, int hidden, const T* preact, const T* bias,
                                                  const T* sPrev, T* gates, T* s, T* h) {
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
    T gi, gf, gg, go, state, out;
    seed_lstm_forward_element(zi, zf, zg, zo, bias[iOff], bias[fOff], bias[gOff], bias[oOff], sPrev[idx],
                              gi, gf, gg, go, state, out);
    gates[row + iOff] = gi;
    gates[row + fOff] = gf;
    gates[row + gOff] = gg;
    gates[row + oOff] = go;
    s[idx] = state;
    h[idx] = out;
}

template <typename T>
__device__ __forceinline__ void seed_lstm_backward(int batch, int hidden, const T* gates, const T* s, const T* sPrev,
                                                   const T* dh, const T* dsNext, T* dPreact, T* dsPrev) {
    const long long idx = global_index();
    const long long n = (long long) batch * hidden;
    if (idx >= n) return;
    const long long b = idx / hidden;
    const int j = (int) (idx - b * hidden);
    const long long row = b * 4 * hidden;
    const long long iOff = (long long) RNN4J_GATE_I * hidden + j, fOff = (long long) RNN4J_GATE_F * hidden + j;
    const long long gOff = (long long) RNN4J_GATE_G * hidden + j, oOff = (long long) RNN4J_GATE_O * hidden + j;
    T di, df, dg, dout, dsp;
    seed_lstm_backward_element(gates[row + iOff], gates[row + fOff], gates[row + gOff], gates[row + oOff],
                               s[idx], sPrev[idx], dh[idx], dsNext[idx], di, df, dg, dout, dsp);
    dPreact[row + iOff] = di;
    dPreact[row + fOff] = df;
    dPreact[row + gOff] = dg;
    dPreact[row + oOff] = dout;
    dsPrev[idx] = dsp;
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_seed_lstm_forward_f32(int batch, int hidden, const float* preact, const float* bias,
                                            const float* sPrev, float* gates, float* s, float* h) {
    rnn4j::kernels::seed_lstm_forward<float>(batch, hidden, preact, bias, sPrev, gates, s, h);
}

__global__ void rnn4j_seed_lstm_forward_f64(int batch, int hidden, const double* preact, const double* bias,
                                            const double* sPrev, double* gates, double* s, double* h) {
    rnn4j::kernels::seed_lstm_forward<double>(batch, hidden, preact, bias, sPrev, gates, s, h);
}

__global__ void rnn4j_seed_lstm_backward_f32(int batch, int hidden, const float* gates, const float* s,
                                             const float* sPrev, const float* dh, const float* dsNext,
                                             float* dPreact, float* dsPrev) {
    rnn4j::kernels::seed_lstm_backward<float>(batch, hidden, gates, s, sPrev, dh, dsNext, dPreact, dsPrev);
}

__global__ void rnn4j_seed_lstm_backward_f64(int batch, int hidden, const double* gates, const double* s,
                                             const double* sPrev, const double* dh, const double* dsNext,
                                             double* dPreact, double* dsPrev) {
    rnn4j::kernels::seed_lstm_backward<double>(batch, hidden, gates, s, sPrev, dh, dsNext, dPreact, dsPrev);
}

} // extern "C"

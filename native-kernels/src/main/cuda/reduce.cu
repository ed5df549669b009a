// reduce family: bias gradients. ABI: native-kernels/README.md.
// rnn4j_sum_rows: 1-D launch, one thread per column j (n = cols; blockDim.x = 256 by convention, not assumed). The
// thread sums its column over the rows in ascending order, from dst[j] when accumulate != 0, else from 0: the CPU's
// order, so the result is deterministic and equal to it. dst must not overlap src.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void sum_rows(int rows, int cols, const T* src, T* dst, int accumulate) {
    const long long j = global_index();
    if (j >= cols) return;
    dst[j] = sum_rows_column(rows, cols, (int) j, src, accumulate ? dst[j] : T(0));
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_sum_rows_f32(int rows, int cols, const float* src, float* dst, int accumulate) {
    rnn4j::kernels::sum_rows<float>(rows, cols, src, dst, accumulate);
}

__global__ void rnn4j_sum_rows_f64(int rows, int cols, const double* src, double* dst, int accumulate) {
    rnn4j::kernels::sum_rows<double>(rows, cols, src, dst, accumulate);
}

} // extern "C"

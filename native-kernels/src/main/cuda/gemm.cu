// gemm family: the fallback GEMM, used when cuBLAS cannot be loaded. ABI: native-kernels/README.md.
//
// Row-major, as Backend.gemm documents: C(m, n) = alpha * op(A) * op(B) + beta * C, where A is stored (m, k) with
// leading dimension lda, or (k, m) when transA; B is stored (k, n) with ldb, or (n, k) when transB; element (i, j)
// of a row-major matrix sits at i * ld + j. When beta == 0 C is not read (it may hold NaN). k may be 0, which gives
// C = beta * C (0 when beta == 0). m and n must be at least 1 (a grid dimension of 0 is not a valid launch).
//
// Launch: blockDim (16, 16, 1), grid ((n + 15) / 16, (m + 15) / 16, 1); threadIdx.x / blockIdx.x index the columns j
// of C, threadIdx.y / blockIdx.y its rows i. Each block walks k in tiles of 16, staging a 16x16 tile of op(A) and of
// op(B) in shared memory; each thread accumulates its dot product over p in ascending order from 0 (acc += a * b,
// two roundings since everything is compiled with -fmad=false), then stores alpha * acc (+ beta * C): the same
// operations in the same order as the Java CPU GEMM, so the result is bit-identical to it. C must not overlap A or B.
#include "rnn4j_math.cuh"

namespace rnn4j {
namespace kernels {

template <typename T>
__device__ __forceinline__ void gemm(int transA, int transB, int m, int n, int k, T alpha, const T* A, int lda,
                                     const T* B, int ldb, T beta, T* C, int ldc) {
    // Tiles of op(A) (rows i, columns p) and op(B) (rows p, columns j); one column of padding against bank conflicts.
    __shared__ T tileA[kGemmTile][kGemmTile + 1];
    __shared__ T tileB[kGemmTile][kGemmTile + 1];
    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int row0 = blockIdx.y * kGemmTile; // first row i of this block's tile of C
    const int col0 = blockIdx.x * kGemmTile; // first column j
    const int i = row0 + ty;
    const int j = col0 + tx;
    // Which element of each tile this thread loads (coalesced along the stored matrix's contiguous dimension).
    int aR, aC, bR, bC;
    gemm_tile_slot(transA, ty, tx, aR, aC);
    gemm_tile_slot(transB, ty, tx, bR, bC);

    T acc = T(0);
    for (int p0 = 0; p0 < k; p0 += kGemmTile) {
        {
            const int r = row0 + aR; // op(A)(r, p0 + aC)
            const int p = p0 + aC;
            tileA[aR][aC] = (r < m && p < k) ? A[gemm_index(transA, lda, r, p)] : T(0);
        }
        {
            const int p = p0 + bR; // op(B)(p0 + bR, c)
            const int c = col0 + bC;
            tileB[bR][bC] = (p < k && c < n) ? B[gemm_index(transB, ldb, p, c)] : T(0);
        }
        __syncthreads();
        const int steps = min(kGemmTile, k - p0); // only real terms: the sum is exactly the CPU's
        for (int q = 0; q < steps; ++q) {
            acc = gemm_accumulate(acc, tileA[ty][q], tileB[q][tx]);
        }
        __syncthreads();
    }
    if (i < m && j < n) {
        T* c = C + (long long) i * ldc + j;
        *c = gemm_store(alpha, acc, beta, c);
    }
}

} // namespace kernels
} // namespace rnn4j

extern "C" {

__global__ void rnn4j_gemm_f32(int transA, int transB, int m, int n, int k, float alpha, const float* A, int lda,
                               const float* B, int ldb, float beta, float* C, int ldc) {
    rnn4j::kernels::gemm<float>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

__global__ void rnn4j_gemm_f64(int transA, int transB, int m, int n, int k, double alpha, const double* A, int lda,
                               const double* B, int ldb, double beta, double* C, int ldc) {
    rnn4j::kernels::gemm<double>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

} // extern "C"

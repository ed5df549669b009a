// gemm_fast family: the fast GEMM path (register tiles, vector loads, double-buffered shared memory, fused
// multiply-add). ABI: native-kernels/README.md. The exact path (the CPU's order, bit-identical) stays in gemm.cu.
//
// Row-major, as Backend.gemm documents: C(m, n) = alpha * op(A) * op(B) + beta * C, where A is stored (m, k) with
// leading dimension lda, or (k, m) when transA; B is stored (k, n) with ldb, or (n, k) when transB; element (i, j)
// of a row-major matrix sits at i * ld + j. When beta == 0 C is not read (it may hold NaN). k may be 0 (C = beta * C,
// or 0 when beta == 0). m, n >= 1. C must not overlap A or B.
//
// Launch: blockDim (16, 16, 1) = 256 threads, grid ((n + BN - 1) / BN, (m + BM - 1) / BM, 1), BM = BN = 128 for
// float and 64 for double (FastTile below; KernelImages.fastGemmTile); m <= 65535 * BM. Static shared memory
// 16896 bytes for both. Each thread computes a TM x TN register tile of C (8x8 float, 4x4 double): rows
// by * BM + ty * TM + [0, TM), columns bx * BN + tx * TN + [0, TN).
//
// The block walks k in tiles of BK = 8. For each tile every thread loads one 16-byte vector (4 floats, 2 doubles) of
// op(A) and one of op(B) along the stored matrix's contiguous dimension into registers, then writes them into one of
// two shared-memory buffers; while the block computes on one buffer the next tile's global loads are in flight and
// are written into the other buffer, so one __syncthreads per tile suffices. A vector load is used when the operand's
// base address is 16-byte aligned, its leading dimension a multiple of the vector width and the whole vector inside
// the matrix; otherwise (unaligned leading dimensions or offsets, the edges of the matrix) each element is loaded on
// its own and elements outside the matrix are 0. The edges are handled in this one kernel.
//
// Numerics: each thread accumulates acc = fma(a_p, b_p, acc) for p ascending from 0 (the zero-filled terms beyond k
// add exactly 0), then stores alpha * acc when beta == 0, else fma(alpha, acc, beta * C). So the result is
// deterministic and equals a sequential fused-multiply-add dot product (the host test checks that bit for bit); it
// differs from the exact path only by FMA's single rounding, within
// |err| <= gamma(k + 1) * |alpha| * sum_p |a_p * b_p| + gamma(2) * |beta * c|, gamma(j) = j * u / (1 - j * u)
// (u = 2^-24 float, 2^-53 double; derivation in native-kernels/README.md). The explicit fma below is fused even
// though the file is compiled with -fmad=false (which only stops nvcc from contracting a * b + c on its own).
//
// The kernel is written as phases between barriers (FastGemmThread's begin/load/stage/compute/store, driven by
// fast_gemm_block through an executor), so that native-kernels/src/test/host/fast_kernels_test.cpp can run the very
// same code on the host: every block of the grid, its 256 threads run phase by phase between the __syncthreads
// points, in several interleavings, with shared memory poisoned with NaN.
#include "rnn4j_math.cuh"

#include <stdint.h>

// Full unrolling keeps the register tile in registers on the device; the host compiler need not be told.
#ifdef __CUDACC__
#define RNN4J_UNROLL _Pragma("unroll")
#else
#define RNN4J_UNROLL
#endif

namespace rnn4j {
namespace fastgemm {

constexpr int kThreadsX = 16;                   // threadIdx.x: groups of TN columns
constexpr int kThreadsY = 16;                   // threadIdx.y: groups of TM rows
constexpr int kThreads = kThreadsX * kThreadsY; // 256
constexpr int kBK = 8;                          // k per shared-memory tile

// The tile geometry of one precision: one 16-byte vector per thread per operand per k tile.
template <typename T>
struct FastTile {
    static constexpr int VEC = 16 / (int) sizeof(T); // 4 float, 2 double
    static constexpr int TM = 2 * VEC;               // register tile: 8x8 float, 4x4 double
    static constexpr int TN = 2 * VEC;
    static constexpr int BM = kThreadsY * TM; // 128 float, 64 double
    static constexpr int BN = kThreadsX * TN;
    static constexpr int PAD = VEC; // rows stay 16-byte aligned; the transposing stores avoid bank conflicts
    static_assert(BM * kBK == kThreads * VEC, "one vector of op(A) per thread per tile");
    static_assert(BN * kBK == kThreads * VEC, "one vector of op(B) per thread per tile");
};

// Shared memory of a block: two buffers of the op(A) tile (k-major: a[buf][p][i]) and of op(B) (b[buf][p][j]).
template <typename T>
struct alignas(16) FastShared {
    T a[2][kBK][FastTile<T>::BM + FastTile<T>::PAD];
    T b[2][kBK][FastTile<T>::BN + FastTile<T>::PAD];
};

template <typename T>
struct FastArgs {
    int transA, transB, m, n, k;
    T alpha;
    const T* A;
    int lda;
    const T* B;
    int ldb;
    T beta;
    T* C;
    int ldc;
};

RNN4J_HD inline float fma_rn(float a, float b, float c) {
#ifdef __CUDA_ARCH__
    return __fmaf_rn(a, b, c);
#else
    return fmaf(a, b, c);
#endif
}

RNN4J_HD inline double fma_rn(double a, double b, double c) {
#ifdef __CUDA_ARCH__
    return __fma_rn(a, b, c);
#else
    return fma(a, b, c);
#endif
}

#ifndef __CUDA_ARCH__
// Host emulation only: how many vector loads ran, and how many of them were not 16-byte aligned (must stay 0: on the
// device a misaligned vector load is a fault).
inline long long host_vector_loads = 0;
inline long long host_misaligned_vector_loads = 0;
#endif

// out[0 .. VEC) = p[0 .. VEC) as one 16-byte load; p must be 16-byte aligned.
#ifdef __CUDA_ARCH__
__device__ __forceinline__ void load_vector(const float* p, float* out) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    out[0] = v.x;
    out[1] = v.y;
    out[2] = v.z;
    out[3] = v.w;
}

__device__ __forceinline__ void load_vector(const double* p, double* out) {
    const double2 v = *reinterpret_cast<const double2*>(p);
    out[0] = v.x;
    out[1] = v.y;
}
#else
template <typename T>
inline void load_vector(const T* p, T* out) {
    ++host_vector_loads;
    if (((uintptr_t) p & 15u) != 0) {
        ++host_misaligned_vector_loads;
    }
    for (int v = 0; v < 16 / (int) sizeof(T); ++v) {
        out[v] = p[v];
    }
}
#endif

// The state of one thread: what it loads, its staged vectors and its register tile of C.
template <typename T>
struct FastGemmThread {
    using G = FastTile<T>;
    int tid; // threadIdx.y * 16 + threadIdx.x, set by the executor
    int row0, col0;
    // Per operand: whether vectors may be used, and the tile-local element this thread's vector starts at: long
    // index (row i of op(A), column j of op(B)) and k index p; the vector runs along p when the stored matrix is
    // contiguous in p (A not transposed, B transposed), else along the long index.
    bool vecA, vecB, alongKA, alongKB;
    int longA, kA, longB, kB;
    T ra[G::VEC], rb[G::VEC];
    T acc[G::TM][G::TN];

    // Where this thread's vector of a BL x kBK tile starts.
    RNN4J_HD static void slot(bool alongK, int tid, int& lng, int& kk) {
        if (alongK) {
            constexpr int perRow = kBK / G::VEC;
            lng = tid / perRow;
            kk = (tid % perRow) * G::VEC;
        } else {
            constexpr int perRow = G::BM / G::VEC; // == BN / VEC
            kk = tid / perRow;
            lng = (tid % perRow) * G::VEC;
        }
    }

    RNN4J_HD void begin(const FastArgs<T>& a, int blockX, int blockY) {
        row0 = blockY * G::BM;
        col0 = blockX * G::BN;
        alongKA = !a.transA; // A (m, k) row-major: contiguous in p
        alongKB = a.transB != 0; // B stored (n, k): contiguous in p
        vecA = ((uintptr_t) a.A & 15u) == 0 && a.lda % G::VEC == 0;
        vecB = ((uintptr_t) a.B & 15u) == 0 && a.ldb % G::VEC == 0;
        slot(alongKA, tid, longA, kA);
        slot(alongKB, tid, longB, kB);
RNN4J_UNROLL
        for (int i = 0; i < G::TM; ++i) {
RNN4J_UNROLL
            for (int j = 0; j < G::TN; ++j) {
                acc[i][j] = T(0);
            }
        }
    }

    // One operand's vector of k tile `tile` into out: X is op(X) = (extent x k) seen along its long index, stored at
    // lng * ld + p when alongK, else at p * ld + lng.
    RNN4J_HD static void load_operand(const T* X, int ld, bool alongK, bool vec, int extent, int k, int lng, int p,
                                      T* out) {
        const bool whole = alongK ? (lng < extent && p + G::VEC <= k) : (p < k && lng + G::VEC <= extent);
        if (vec && whole) {
            load_vector(X + (alongK ? (long long) lng * ld + p : (long long) p * ld + lng), out);
            return;
        }
RNN4J_UNROLL
        for (int v = 0; v < G::VEC; ++v) {
            const int l = alongK ? lng : lng + v;
            const int q = alongK ? p + v : p;
            out[v] = (l < extent && q < k) ? X[alongK ? (long long) l * ld + q : (long long) q * ld + l] : T(0);
        }
    }

    // Global loads of k tile `tile` into the registers ra, rb.
    RNN4J_HD void load(const FastArgs<T>& a, int tile) {
        const int p0 = tile * kBK;
        load_operand(a.A, a.lda, alongKA, vecA, a.m, a.k, row0 + longA, p0 + kA, ra);
        load_operand(a.B, a.ldb, alongKB, vecB, a.n, a.k, col0 + longB, p0 + kB, rb);
    }

    // The staged registers into shared buffer buf.
    RNN4J_HD void stage(FastShared<T>& sh, int buf) const {
RNN4J_UNROLL
        for (int v = 0; v < G::VEC; ++v) {
            if (alongKA) {
                sh.a[buf][kA + v][longA] = ra[v];
            } else {
                sh.a[buf][kA][longA + v] = ra[v];
            }
            if (alongKB) {
                sh.b[buf][kB + v][longB] = rb[v];
            } else {
                sh.b[buf][kB][longB + v] = rb[v];
            }
        }
    }

    // The register tile's products over shared buffer buf, p ascending.
    RNN4J_HD void compute(const FastShared<T>& sh, int buf, int tx, int ty) {
RNN4J_UNROLL
        for (int p = 0; p < kBK; ++p) {
            T av[G::TM], bv[G::TN];
RNN4J_UNROLL
            for (int i = 0; i < G::TM; ++i) {
                av[i] = sh.a[buf][p][ty * G::TM + i];
            }
RNN4J_UNROLL
            for (int j = 0; j < G::TN; ++j) {
                bv[j] = sh.b[buf][p][tx * G::TN + j];
            }
RNN4J_UNROLL
            for (int i = 0; i < G::TM; ++i) {
RNN4J_UNROLL
                for (int j = 0; j < G::TN; ++j) {
                    acc[i][j] = fma_rn(av[i], bv[j], acc[i][j]);
                }
            }
        }
    }

    // C = alpha * acc (beta == 0: C not read) or fma(alpha, acc, beta * C), inside the matrix only.
    RNN4J_HD void store(const FastArgs<T>& a, int tx, int ty) const {
RNN4J_UNROLL
        for (int i = 0; i < G::TM; ++i) {
            const int r = row0 + ty * G::TM + i;
            if (r < a.m) {
                T* row = a.C + (long long) r * a.ldc;
RNN4J_UNROLL
                for (int j = 0; j < G::TN; ++j) {
                    const int c = col0 + tx * G::TN + j;
                    if (c < a.n) {
                        row[c] = a.beta == T(0) ? a.alpha * acc[i][j]
                                                : fma_rn(a.alpha, acc[i][j], a.beta * row[c]);
                    }
                }
            }
        }
    }
};

// One block of the fast GEMM, as phases between barriers. Exec runs a phase body for "each" thread and "sync"s:
// on the device, for this thread and __syncthreads(); in the host emulation, for all 256 threads in some order.
// Consecutive each() calls without a sync between them belong to the same phase (any interleaving is allowed).
template <typename T, typename Exec>
RNN4J_HD inline void fast_gemm_block(Exec& ex, const FastArgs<T>& a, FastShared<T>& sh, int blockX, int blockY) {
    const int tiles = (a.k + kBK - 1) / kBK;
    ex.each([&](FastGemmThread<T>& th) {
        th.begin(a, blockX, blockY);
        if (tiles > 0) {
            th.load(a, 0);
            th.stage(sh, 0);
        }
    });
    ex.sync();
    for (int t = 0; t < tiles; ++t) {
        const bool next = t + 1 < tiles;
        // While the block reads buffer t & 1, the next tile goes into the other one; the barrier at the end of the
        // previous tile guarantees nobody still reads it.
        ex.each([&](FastGemmThread<T>& th) {
            if (next) {
                th.load(a, t + 1);
            }
        });
        ex.each([&](FastGemmThread<T>& th) { th.compute(sh, t & 1, th.tid % kThreadsX, th.tid / kThreadsX); });
        ex.each([&](FastGemmThread<T>& th) {
            if (next) {
                th.stage(sh, (t + 1) & 1);
            }
        });
        ex.sync();
    }
    ex.each([&](FastGemmThread<T>& th) { th.store(a, th.tid % kThreadsX, th.tid / kThreadsX); });
    ex.finish();
}

#ifdef __CUDACC__
// The device executor: one thread, its state in registers.
template <typename T>
struct DeviceExec {
    FastGemmThread<T> th;

    __device__ DeviceExec() {
        th.tid = threadIdx.y * kThreadsX + threadIdx.x;
    }

    template <typename F>
    __device__ __forceinline__ void each(F f) {
        f(th);
    }

    __device__ __forceinline__ void sync() {
        __syncthreads();
    }

    __device__ __forceinline__ void finish() {
    }
};

template <typename T>
__device__ __forceinline__ void fast_gemm(int transA, int transB, int m, int n, int k, T alpha,
                                          const T* __restrict__ A, int lda, const T* __restrict__ B, int ldb, T beta,
                                          T* __restrict__ C, int ldc) {
    __shared__ FastShared<T> sh;
    const FastArgs<T> a{transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc};
    DeviceExec<T> ex;
    fast_gemm_block<T>(ex, a, sh, (int) blockIdx.x, (int) blockIdx.y);
}
#endif

} // namespace fastgemm
} // namespace rnn4j

#ifdef __CUDACC__
extern "C" {

__launch_bounds__(256) __global__ void rnn4j_gemm_fast_f32(int transA, int transB, int m, int n, int k, float alpha,
                                                           const float* A, int lda, const float* B, int ldb,
                                                           float beta, float* C, int ldc) {
    rnn4j::fastgemm::fast_gemm<float>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

__launch_bounds__(256) __global__ void rnn4j_gemm_fast_f64(int transA, int transB, int m, int n, int k, double alpha,
                                                           const double* A, int lda, const double* B, int ldb,
                                                           double beta, double* C, int ldc) {
    rnn4j::fastgemm::fast_gemm<double>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

} // extern "C"
#endif

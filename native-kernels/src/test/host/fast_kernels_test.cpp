// Host test of the fast GEMM (gemm_fast.cu) and the chunked column sums (reduce_chunks.cu + the second stage
// sum_rows_column of rnn4j_math.cuh), run by HostFastKernelsTest: compiled with nvcc (as host code) or g++, with
// -ffp-contract=off as the kernels are compiled with -fmad=false.
//
// The kernels' own code runs here: this file includes the .cu files, whose device entry points are compiled only
// under nvcc's device compilation (__CUDACC__); their bodies are __host__ __device__ functions.
//
// Fast GEMM, emulated faithfully: every block of the grid; in each block the 256 threads' states (registers) are
// kept apart, shared memory is one struct poisoned with NaN at the start of the block, and the threads run the
// kernel's phases (fast_gemm_block) between the __syncthreads points in one of three interleavings:
//   thread-major ascending / descending: each thread runs the whole phase before the next thread starts;
//   step-major: all threads run one step of the phase before any runs the next.
// A missing barrier or a buffer written while another thread still reads it gives different (wrong) results in one
// of them. Shapes: m, n, k in {1, 7, 64, 65, 127, 300} and k = 0, all four transpositions, leading dimensions equal
// to the stored width or larger (odd, so vector loads must fall back to scalar ones), operands at 16-byte aligned or
// unaligned offsets, alpha and beta general, beta = 0 over C full of NaN. Each result must be
//   * bit for bit the sequential fused-multiply-add dot product (p ascending) then alpha * acc or
//     fma(alpha, acc, beta * c): the order the kernel promises;
//   * within |err| <= gamma(k + 1) |alpha| sum |a b| + gamma(2) |beta c| of the exact value (computed in long
//     double, whose own error is added to the bound), gamma(j) = j u / (1 - j u), u = 2^-24 (float), 2^-53
//     (double); and elements of C outside (m, n) are untouched.
// Vector loads are counted: aligned cases must use them, and none may be misaligned.
//
// Column sums: the two-stage partition (chunks of rows, ColumnSums in Java, transcribed below) emulated over
// awkward sizes against a plain long double sum within gamma(chunkRows + chunks) (|start| + sum |x|), and bit for
// bit against the CPU backends' loops (CpuBackend64 / CpuBackend32.doSumRows, transcribed).
//
// Exit status 0 when everything matches, 1 otherwise.
#include "gemm_fast.cu"
#include "reduce_chunks.cu"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using rnn4j::fastgemm::FastArgs;
using rnn4j::fastgemm::FastGemmThread;
using rnn4j::fastgemm::FastShared;
using rnn4j::fastgemm::FastTile;

int g_checks = 0;
int g_failures = 0;

template <typename T>
const char* type_name() {
    return sizeof(T) == sizeof(float) ? "f32" : "f64";
}

template <typename T>
long double unit_roundoff() {
    return sizeof(T) == sizeof(float) ? std::ldexp(1.0L, -24) : std::ldexp(1.0L, -53);
}

long double gamma_of(long double u, long double j) {
    return j * u / (1 - j * u);
}

bool same_value(float a, float b) { // == (so -0 == +0) or both NaN
    return a == b || (std::isnan(a) && std::isnan(b));
}

bool same_value(double a, double b) {
    return a == b || (std::isnan(a) && std::isnan(b));
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// Prints the first 40 failures (printf-style), counts all.
template <typename... Args>
void fail(const char* fmt, Args... args) {
    if (g_failures < 40) {
        std::printf(fmt, args...);
    }
    ++g_failures;
}

// ---------------------------------------------------------------------------------------------------------------
// The executor of the emulation: 256 thread states, phases run in the chosen interleaving.

enum class Order { ThreadMajorUp, ThreadMajorDown, StepMajor };

const char* order_name(Order o) {
    return o == Order::ThreadMajorUp ? "thread-major-up" : o == Order::ThreadMajorDown ? "thread-major-down"
                                                                                          : "step-major";
}

template <typename T>
struct HostExec {
    std::vector<FastGemmThread<T>> threads;
    Order order;
    std::vector<std::function<void(FastGemmThread<T>&)>> phase; // the steps of the current phase (thread-major)
    int syncs = 0;

    explicit HostExec(Order o) : threads(rnn4j::fastgemm::kThreads), order(o) {
        for (int t = 0; t < (int) threads.size(); ++t) {
            threads[t].tid = t;
            // Registers start as garbage: a thread must not read a register it has not written.
            std::memset((void*) &threads[t].acc, 0xff, sizeof threads[t].acc);
            std::memset((void*) &threads[t].ra, 0xff, sizeof threads[t].ra);
            std::memset((void*) &threads[t].rb, 0xff, sizeof threads[t].rb);
        }
    }

    void for_threads(const std::function<void(FastGemmThread<T>&)>& f) {
        const int n = (int) threads.size();
        for (int i = 0; i < n; ++i) {
            f(threads[order == Order::ThreadMajorDown ? n - 1 - i : i]);
        }
    }

    template <typename F>
    void each(F f) {
        if (order == Order::StepMajor) {
            for_threads(f);
        } else {
            phase.emplace_back(f); // run at the barrier, thread by thread
        }
    }

    void sync() {
        run_phase();
        ++syncs;
    }

    void finish() {
        run_phase();
    }

    void run_phase() {
        if (!phase.empty()) {
            for_threads([&](FastGemmThread<T>& th) {
                for (auto& step : phase) {
                    step(th);
                }
            });
            phase.clear();
        }
    }
};

template <typename T>
void emulate_fast_gemm(Order order, const FastArgs<T>& a) {
    using G = FastTile<T>;
    const int gridX = (a.n + G::BN - 1) / G::BN;
    const int gridY = (a.m + G::BM - 1) / G::BM;
    FastShared<T> sh;
    for (int by = 0; by < gridY; ++by) {
        for (int bx = 0; bx < gridX; ++bx) {
            T* raw = reinterpret_cast<T*>(&sh);
            std::fill(raw, raw + sizeof sh / sizeof(T), std::numeric_limits<T>::quiet_NaN());
            HostExec<T> ex(order);
            rnn4j::fastgemm::fast_gemm_block<T>(ex, a, sh, bx, by);
        }
    }
}

// The order the kernel promises: acc = fma(a_p, b_p, acc) for p ascending from 0, then the store.
template <typename T>
T sequential_fma(const FastArgs<T>& a, int i, int j, T c0) {
    T acc = T(0);
    for (int p = 0; p < a.k; ++p) {
        const T x = a.A[a.transA ? (long long) p * a.lda + i : (long long) i * a.lda + p];
        const T y = a.B[a.transB ? (long long) j * a.ldb + p : (long long) p * a.ldb + j];
        acc = rnn4j::fastgemm::fma_rn(x, y, acc);
    }
    return a.beta == T(0) ? a.alpha * acc : rnn4j::fastgemm::fma_rn(a.alpha, acc, a.beta * c0);
}

// A buffer of `count` elements starting `offset` elements past a 64-byte boundary, so that offset 1 is unaligned.
template <typename T>
struct Operand {
    std::vector<T> storage;
    T* data;

    Operand(std::mt19937_64& rng, long long count, int offset) : storage((size_t) count + offset + 64 / sizeof(T)) {
        const uintptr_t base = reinterpret_cast<uintptr_t>(storage.data());
        const uintptr_t aligned = (base + 63) & ~uintptr_t(63);
        data = reinterpret_cast<T*>(aligned) + offset;
        std::uniform_real_distribution<double> d(-1.0, 1.0);
        for (T& v : storage) {
            v = (T) d(rng);
        }
    }
};

struct GemmStats {
    long long cases = 0;
    long long values = 0;
    long double worstRatio = 0; // max |err| / bound over values with a non-zero bound
    long long alignedCasesWithoutVectors = 0;
};

template <typename T>
void gemm_case(std::mt19937_64& rng, GemmStats& st, int transA, int transB, int m, int n, int k, int ldPad,
               int offset, T alpha, T beta, Order order) {
    const int aRows = transA ? k : m, aCols = transA ? m : k;
    const int bRows = transB ? n : k, bCols = transB ? k : n;
    const int lda = std::max(1, aCols + ldPad), ldb = std::max(1, bCols + ldPad + (ldPad ? 2 : 0));
    const int ldc = n + 1 + ldPad; // always wider than n: the columns beyond n must stay untouched
    Operand<T> A(rng, (long long) std::max(aRows, 1) * lda, offset);
    Operand<T> B(rng, (long long) std::max(bRows, 1) * ldb, offset);
    Operand<T> C(rng, (long long) m * ldc, offset);
    if (beta == T(0)) {
        std::fill(C.storage.begin(), C.storage.end(), std::numeric_limits<T>::quiet_NaN()); // must not be read
    }
    const std::vector<T> C0(C.data, C.data + (long long) m * ldc);
    const FastArgs<T> args{transA, transB, m, n, k, alpha, A.data, lda, B.data, ldb, beta, C.data, ldc};

    const long long vecBefore = rnn4j::fastgemm::host_vector_loads;
    emulate_fast_gemm<T>(order, args);
    // A vector load is possible for an operand at an aligned offset whose leading dimension is a multiple of the
    // vector width and which holds at least one whole vector along its contiguous dimension.
    const int vec = FastTile<T>::VEC;
    const bool vecA = lda % vec == 0 && (transA ? m >= vec && k >= 1 : k >= vec);
    const bool vecB = ldb % vec == 0 && (transB ? k >= vec : n >= vec && k >= 1);
    if (offset == 0 && (vecA || vecB) && rnn4j::fastgemm::host_vector_loads == vecBefore) {
        ++st.alignedCasesWithoutVectors;
    }

    const long double u = unit_roundoff<T>(), uRef = std::ldexp(1.0L, -63);
    const std::string name = std::string("fast_gemm_") + type_name<T>() + " transA=" + std::to_string(transA) +
                             " transB=" + std::to_string(transB) + " m=" + std::to_string(m) + " n=" +
                             std::to_string(n) + " k=" + std::to_string(k) + " ldPad=" + std::to_string(ldPad) +
                             " offset=" + std::to_string(offset) + " " + order_name(order);
    ++st.cases;
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < ldc; ++j) {
            const T got = C.data[(long long) i * ldc + j];
            const T c0 = C0[(long long) i * ldc + j];
            ++g_checks;
            if (j >= n) {
                if (!same_bits(got, c0)) {
                    fail("  MISMATCH %s: wrote C(%d, %d) outside its n columns\n", name.c_str(), i, j);
                }
                continue;
            }
            ++st.values;
            const T seq = sequential_fma(args, i, j, c0);
            if (!same_value(got, seq)) {
                fail("  MISMATCH %s: C(%d, %d) = %.17g, sequential fma %.17g\n", name.c_str(), i, j, (double) got,
                     (double) seq);
            }
            long double exact = 0, mag = 0;
            for (int p = 0; p < k; ++p) {
                const long double x = A.data[transA ? (long long) p * lda + i : (long long) i * lda + p];
                const long double y = B.data[transB ? (long long) j * ldb + p : (long long) p * ldb + j];
                exact += x * y;
                mag += std::fabs(x * y);
            }
            exact *= alpha;
            mag *= std::fabs((long double) alpha);
            long double cTerm = 0;
            if (beta != T(0)) {
                exact += (long double) beta * c0;
                cTerm = std::fabs((long double) beta * c0);
            }
            const long double bound = (gamma_of(u, k + 1) + gamma_of(uRef, k + 2)) * mag +
                                      (gamma_of(u, 2) + gamma_of(uRef, 2)) * cTerm;
            const long double err = std::fabs((long double) got - exact);
            if (!(err <= bound)) {
                fail("  MISMATCH %s: C(%d, %d): |err| %.3g > bound %.3g\n", name.c_str(), i, j, (double) err,
                     (double) bound);
            } else if (bound > 0) {
                st.worstRatio = std::max(st.worstRatio, err / bound);
            }
        }
    }
}

template <typename T>
void test_fast_gemm(std::mt19937_64& rng) {
    GemmStats st;
    const int sizes[] = {1, 7, 64, 65, 127, 300};
    // (alpha, beta): plain, scaled over NaN (beta = 0: C is not read), general, accumulate.
    const double ab[][2] = {{1.0, 0.0}, {-0.7, 0.0}, {1.3, -0.5}, {0.5, 1.0}};
    const long long misalignedBefore = rnn4j::fastgemm::host_misaligned_vector_loads;
    int idx = 0;
    for (int transA = 0; transA <= 1; ++transA) {
        for (int transB = 0; transB <= 1; ++transB) {
            for (int m : sizes) {
                for (int n : sizes) {
                    std::vector<int> ks(std::begin(sizes), std::end(sizes));
                    ks.push_back(0);
                    for (int k : ks) {
                        // Rotate the leading-dimension padding (0: vector loads where the width allows; 3 and 1:
                        // wider, mostly not a multiple of the vector width), the offset (0 aligned, 1 unaligned:
                        // scalar fallback), alpha/beta and the interleaving of the emulation.
                        const int ldPad = idx % 3 == 0 ? 0 : idx % 3 == 1 ? 3 : 1;
                        const int offset = (idx / 3) % 4 == 3 ? 1 : 0;
                        const double* s = ab[idx % 4];
                        const Order order = (Order) ((idx / 2) % 3);
                        gemm_case<T>(rng, st, transA, transB, m, n, k, ldPad, offset, (T) s[0], (T) s[1], order);
                        ++idx;
                    }
                }
            }
        }
    }
    const long long misaligned = rnn4j::fastgemm::host_misaligned_vector_loads - misalignedBefore;
    ++g_checks;
    if (misaligned != 0) {
        std::printf("  MISMATCH fast_gemm_%s: %lld misaligned vector loads\n", type_name<T>(), misaligned);
        ++g_failures;
    }
    ++g_checks;
    if (st.alignedCasesWithoutVectors != 0) {
        std::printf("  MISMATCH fast_gemm_%s: %lld aligned cases used no vector load\n", type_name<T>(),
                    st.alignedCasesWithoutVectors);
        ++g_failures;
    }
    std::printf("fast_gemm_%s: %lld cases, %lld values of C, %lld vector loads (%lld misaligned); worst |err| / "
                "bound = %.3Lg\n",
                type_name<T>(), st.cases, st.values, rnn4j::fastgemm::host_vector_loads, misaligned, st.worstRatio);
}

// ---------------------------------------------------------------------------------------------------------------
// Column sums.

// org.rnn4j.backend.ColumnSums.chunkRows, transcribed (maxPartials = ColumnSums.MAX_PARTIALS in the backends; a
// smaller one here reaches the branch where the chunks grow without allocating gigabytes).
constexpr int kChunkRows = 32;
constexpr int kMaxPartials = 1 << 20;

int chunk_rows(int rows, int cols, int maxPartials) {
    const int maxChunks = cols > 0 ? maxPartials / cols : maxPartials;
    const long long chunks = ((long long) rows + kChunkRows - 1) / kChunkRows;
    if (maxChunks < 2) {
        return std::max(rows, 1);
    }
    if (chunks <= maxChunks) {
        return kChunkRows;
    }
    return (int) (((long long) rows + maxChunks - 1) / maxChunks);
}

// The backends' sumRows: one pass when there is one chunk, else the two stages (the kernels' bodies).
template <typename T>
void emulate_sum_rows(int rows, int cols, const T* src, T* dst, bool accumulate, int maxPartials, int& chunksOut,
                      int& chunkRowsOut) {
    const int chunkRows = chunk_rows(rows, cols, maxPartials);
    const int chunks = (rows + chunkRows - 1) / chunkRows;
    chunksOut = chunks;
    chunkRowsOut = chunkRows;
    if (chunks <= 1) {
        for (int j = 0; j < cols; ++j) { // rnn4j_sum_rows
            dst[j] = rnn4j::sum_rows_column(rows, cols, j, src, accumulate ? dst[j] : T(0));
        }
        return;
    }
    std::vector<T> partial((size_t) chunks * cols, std::numeric_limits<T>::quiet_NaN());
    const long long threads = (long long) chunks * cols;
    const int block = rnn4j::kElementwiseBlock;
    const long long grid = (threads + block - 1) / block;
    for (long long b = 0; b < grid; ++b) { // rnn4j_sum_rows_chunks, every thread of every block
        for (int t = 0; t < block; ++t) {
            rnn4j::reduce::sum_rows_chunks_thread<T>(b * block + t, rows, cols, chunkRows, chunks, src,
                                                     partial.data());
        }
    }
    for (int j = 0; j < cols; ++j) { // rnn4j_sum_rows over the partials
        dst[j] = rnn4j::sum_rows_column(chunks, cols, j, partial.data(), accumulate ? dst[j] : T(0));
    }
}

// CpuBackend64 / CpuBackend32.doSumRows, transcribed (with ColumnSums' partition).
template <typename T>
void java_sum_rows(int rows, int cols, const T* sv, T* dv, bool accumulate, int maxPartials) {
    const int chunkRows = chunk_rows(rows, cols, maxPartials);
    const int chunks = (rows + chunkRows - 1) / chunkRows;
    for (int j = 0; j < cols; j++) {
        T sum = accumulate ? dv[j] : 0;
        if (chunks <= 1) {
            for (int r = 0; r < rows; r++) {
                sum += sv[r * cols + j];
            }
        } else {
            for (int c = 0; c < chunks; c++) {
                T part = 0;
                const int end = std::min(rows, (c + 1) * chunkRows);
                for (int r = c * chunkRows; r < end; r++) {
                    part += sv[r * cols + j];
                }
                sum += part;
            }
        }
        dv[j] = sum;
    }
}

template <typename T>
void test_sum_rows(std::mt19937_64& rng) {
    const long double u = unit_roundoff<T>();
    long long cases = 0, multi = 0, grown = 0;
    long double worst = 0;
    struct Size {
        int rows, cols, maxPartials;
    };
    std::vector<Size> sizes;
    for (int rows : {0, 1, 31, 32, 33, 64, 65, 1000, 4099}) {
        for (int cols : {1, 7, 256, 1025}) {
            sizes.push_back({rows, cols, kMaxPartials});
        }
    }
    // Partials capped: the chunk length grows so that chunks * cols <= maxPartials.
    sizes.push_back({4099, 7, 64});
    sizes.push_back({1000, 33, 100});
    sizes.push_back({300, 256, 256}); // maxChunks 1: one pass
    for (const Size& s : sizes) {
        for (int accumulate = 0; accumulate <= 1; ++accumulate) {
            std::uniform_real_distribution<double> d(-1.0, 1.0);
            std::vector<T> src((size_t) std::max(1, s.rows * s.cols));
            for (T& v : src) {
                v = (T) d(rng);
            }
            std::vector<T> dst0(s.cols);
            for (T& v : dst0) {
                v = (T) (4 * d(rng));
            }
            std::vector<T> got = dst0, java = dst0;
            int chunks = 0, chunkRows = 0;
            emulate_sum_rows<T>(s.rows, s.cols, src.data(), got.data(), accumulate, s.maxPartials, chunks, chunkRows);
            java_sum_rows<T>(s.rows, s.cols, src.data(), java.data(), accumulate, s.maxPartials);
            ++cases;
            multi += chunks > 1;
            grown += chunkRows > kChunkRows && chunks > 1;
            if (chunks > 1 && (long long) chunks * s.cols > s.maxPartials) {
                fail("  MISMATCH sum_rows: %lld partials over the cap %d\n", (long long) chunks * s.cols, s.maxPartials);
            }
            const std::string name = std::string("sum_rows_") + type_name<T>() + " rows=" + std::to_string(s.rows) +
                                     " cols=" + std::to_string(s.cols) + " acc=" + std::to_string(accumulate);
            const int depth = chunks > 1 ? chunkRows + chunks : s.rows;
            for (int j = 0; j < s.cols; ++j) {
                ++g_checks;
                if (!same_bits(got[j], java[j])) {
                    fail("  MISMATCH %s: column %d: got %.17g, CPU order %.17g\n", name.c_str(), j, (double) got[j],
                         (double) java[j]);
                }
                long double exact = accumulate ? (long double) dst0[j] : 0, mag = std::fabs(exact);
                for (int r = 0; r < s.rows; ++r) {
                    exact += src[(size_t) r * s.cols + j];
                    mag += std::fabs((long double) src[(size_t) r * s.cols + j]);
                }
                const long double bound = gamma_of(u, depth) * mag + gamma_of(std::ldexp(1.0L, -63), s.rows + 1) * mag;
                const long double err = std::fabs((long double) got[j] - exact);
                if (!(err <= bound)) {
                    fail("  MISMATCH %s: column %d: |err| %.3g > bound %.3g\n", name.c_str(), j, (double) err, (double) bound);
                } else if (bound > 0) {
                    worst = std::max(worst, err / bound);
                }
            }
        }
    }
    ++g_checks;
    if (multi == 0 || grown == 0) {
        std::printf("  MISMATCH sum_rows_%s: the sizes reach no multi-chunk (%lld) or grown-chunk (%lld) case\n",
                    type_name<T>(), multi, grown);
        ++g_failures;
    }
    std::printf("sum_rows_%s: %lld cases (%lld two-stage, %lld with grown chunks); worst |err| / bound = %.3Lg\n",
                type_name<T>(), cases, multi, grown, worst);
}

} // namespace

int main() {
    std::mt19937_64 rng(20251201);
    test_fast_gemm<float>(rng);
    test_fast_gemm<double>(rng);
    test_sum_rows<float>(rng);
    test_sum_rows<double>(rng);
    std::printf("%d checks, %d failed\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}

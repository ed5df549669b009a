// Host test of the kernels' per-element math (native-kernels/src/main/cuda/rnn4j_math.cuh), run by
// HostKernelMathTest: compiled with nvcc (as host code) or g++, always with -ffp-contract=off, as the kernels are
// compiled with -fmad=false.
//
// Every body is checked, for float and double, on random inputs and edge values, in two ways:
//  * against the formula written independently in long double, within atol + |ref| * rtol (llm.c dev/cuda style:
//    the first mismatches are printed);
//  * against the Java CPU reference's expression (CpuBackend64 / CpuBackend32), transcribed here in the precision of
//    the data and evaluated in the same order: bit for bit where the kernels promise it (every float64 body but the
//    cross-entropy's, every float32 body without exp/tanh/log), else within the parity bound the CUDA tests use
//    (docs/parity.md): float32 bodies with expf/tanhf/logf (and fmaf) within 128u (u = 2^-24) absolute and
//    relative; the cross-entropy, whose classes are summed in the kernels' warp order (32 lanes, then pairwise),
//    within (classes + 8) 8u absolute, 8u relative.
// The float32 transcendental functions are wrapped (RNN4J_F32_MATH) so that every float32 check runs several times,
// with expf/tanhf moved by -2 .. +2 ulps and logf by -1 .. +1 from the host libm's result: the CUDA documentation's
// worst-case errors, so the parity bound is checked for any device result the documentation allows, not only for the
// host's (nearly correctly rounded) one. The largest deviation seen, in units of the bound, is printed per check.
// The tiled GEMM is emulated on the host with the kernel's own index helpers (gemm_index, gemm_tile_slot, the tile
// loop with its bounds), block by block, and compared in the same two ways on odd shapes and all transpositions.
//
// Exit status 0 when everything matches, 1 otherwise.
#include <cmath>

// The ulps by which the float32 expf, tanhf and logf results are moved (see the comment at the top).
namespace rnn4j_test {
int g_shift_exp = 0;
int g_shift_tanh = 0;
int g_shift_log = 0;

// v moved by k ulps, toward +inf (k > 0) or -inf; zero, infinities and NaN stay (a device result within 2 ulps of
// a correctly rounded 0 or inf has its sign and is that value here: exp underflows and overflows alike).
inline float shift_ulps(float v, int k) {
    if (v == 0.0f || std::isinf(v) || std::isnan(v)) {
        return v;
    }
    for (; k > 0; --k) v = std::nextafter(v, INFINITY);
    for (; k < 0; ++k) v = std::nextafter(v, -INFINITY);
    return v;
}

inline float perturb_expf(float x) { return shift_ulps(::expf(x), g_shift_exp); }
inline float perturb_tanhf(float x) { return shift_ulps(::tanhf(x), g_shift_tanh); }
inline float perturb_logf(float x) { return shift_ulps(::logf(x), g_shift_log); }
} // namespace rnn4j_test

#define RNN4J_F32_MATH(f, x) rnn4j_test::perturb_##f(x)
#include "rnn4j_math.cuh"

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

using rnn4j::kGemmTile;

namespace {

int g_checks = 0;
int g_failures = 0;

template <typename T>
const char* type_name() {
    return sizeof(T) == sizeof(float) ? "f32" : "f64";
}

// Tolerances against the long double reference: a few ulps of the type, scaled a little for the longer formulas.
template <typename T>
double rtol() {
    return sizeof(T) == sizeof(float) ? 2e-6 : 1e-14;
}

template <typename T>
double atol() {
    return sizeof(T) == sizeof(float) ? 1e-6 : 1e-14;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

std::string shift_label() {
    using namespace rnn4j_test;
    if (g_shift_exp == 0 && g_shift_tanh == 0 && g_shift_log == 0) {
        return "";
    }
    return " (expf " + std::to_string(g_shift_exp) + ", tanhf " + std::to_string(g_shift_tanh) + ", logf " +
           std::to_string(g_shift_log) + " ulps)";
}

// The float32 parity bound of the bodies with expf/tanhf/logf against CpuBackend32 (docs/parity.md), absolute and
// relative: 128u, u = 2^-24. float64 bodies are bit for bit (a negative bound).
template <typename T>
double transcendental_parity() {
    return sizeof(T) == sizeof(float) ? 128 * std::ldexp(1.0, -24) : -1;
}

// Sets a check to the float32 parity bound (float only; float64 stays bit for bit).
template <typename C>
C& f32_parity(C& c, double bound) {
    if (bound >= 0) {
        c.parity(bound, bound);
    }
    return c;
}

bool same_bits(double a, double b) {
    return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

// One named comparison of n results: against a long double reference within tolerance, and bit for bit against
// the Java-order values.
template <typename T>
struct Check {
    std::string name;
    double atol_;
    double rtol_;
    int tol_bad = 0;
    int exact_bad = 0;
    int n = 0;
    // Parity with the Java order: bit for bit when parity_atol_ < 0, else |got - java| <= atol + rtol |java|.
    double parity_atol_ = -1;
    double parity_rtol_ = 0;
    double worst_ = 0; // the largest |got - java| / bound seen

    Check(std::string name_, double scale = 1.0)
        : name(std::string(name_) + "_" + type_name<T>()), atol_(atol<T>() * scale), rtol_(rtol<T>() * scale) {}

    // Compares with the Java order within atol + rtol |java| instead of bit for bit.
    Check& parity(double atol, double rtol) {
        parity_atol_ = atol;
        parity_rtol_ = rtol;
        return *this;
    }

    // mag: the magnitude the rounding errors scale with, where it exceeds |ref| (a sum that cancels).
    void value(int i, T got, long double ref, T java, long double mag = 0) {
        ++n;
        const long double diff = std::fabs((long double) got - ref);
        const long double tol = atol_ + std::max(std::fabs(ref), mag) * rtol_;
        const bool both_nan = std::isnan((long double) got) && std::isnan(ref);
        const bool inf_match = std::isinf((long double) got) && std::isinf(ref) && ((got > 0) == (ref > 0));
        if (!both_nan && !inf_match && !(diff <= tol)) {
            if (tol_bad < 5) {
                std::printf("  MISMATCH %s[%d]: got %.17g, reference %.17Lg (|diff| %.3Lg > %.3g)\n", name.c_str(), i,
                            (double) got, ref, diff, (double) tol);
            }
            ++tol_bad;
        }
        if (parity_atol_ < 0) {
            if (!same_bits(got, java)) {
                if (exact_bad < 5) {
                    std::printf("  NOT JAVA'S %s[%d]: got %.17g, Java order gives %.17g\n", name.c_str(), i,
                                (double) got, (double) java);
                }
                ++exact_bad;
            }
            return;
        }
        if (same_bits(got, java)) {
            return;
        }
        const double jd = (double) java;
        const double bound = parity_atol_ + parity_rtol_ * std::fabs(jd);
        const double pd = std::fabs((double) got - jd);
        const bool inf_same = std::isinf(jd) && std::isinf((double) got) && ((got > 0) == (java > 0));
        if (!inf_same) {
            worst_ = std::max(worst_, std::isnan(pd) ? INFINITY : pd / bound);
        }
        if (!inf_same && !(pd <= bound)) {
            if (exact_bad < 5) {
                std::printf("  OFF JAVA'S %s[%d]: got %.17g, Java order gives %.17g (|diff| %.3g > %.3g)\n",
                            name.c_str(), i, (double) got, jd, pd, bound);
            }
            ++exact_bad;
        }
    }

    ~Check() {
        ++g_checks;
        if (tol_bad || exact_bad) {
            ++g_failures;
            std::printf("FAIL %-34s %d values: %d outside tolerance, %d %s the Java order\n", name.c_str(), n,
                        tol_bad, exact_bad, parity_atol_ < 0 ? "not bit-identical to" : "outside the parity bound of");
        } else if (parity_atol_ < 0) {
            std::printf("ok   %-34s %d values\n", name.c_str(), n);
        } else {
            std::printf("ok   %-34s %d values, within %.2f of the parity bound%s\n", name.c_str(), n, worst_,
                        shift_label().c_str());
        }
    }
};

// Inputs: edge values first, then random ones, spread over a range.
template <typename T>
std::vector<T> inputs(std::mt19937_64& rng, int count, double lo, double hi, bool edges) {
    std::vector<T> v;
    if (edges) {
        const double e[] = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-30, -1e-30, 1e-8, -1e-8, 15.0, -15.0, 20.0, -20.0,
                            40.0, -40.0, 88.0, -88.0, 89.0, -89.0, 100.0, -100.0, 709.0, -709.0, 745.0, -745.0,
                            1000.0, -1000.0};
        for (double x : e) {
            v.push_back((T) x);
        }
        v.push_back(std::numeric_limits<T>::min());
        v.push_back(-std::numeric_limits<T>::min());
        v.push_back(std::numeric_limits<T>::denorm_min());
        v.push_back(std::numeric_limits<T>::infinity());
        v.push_back(-std::numeric_limits<T>::infinity());
    }
    std::uniform_real_distribution<double> d(lo, hi);
    while ((int) v.size() < count) {
        v.push_back((T) d(rng));
    }
    return v;
}

// ----- independent references, in long double -----
long double ref_sigmoid(long double x) {
    return 1.0L / (1.0L + expl(-x));
}

// The activations as the Java reference computes them, in T: CpuBackend64.sigmoid, CpuBackend32.sigmoid, Math.tanh.
double java_sigmoid(double x) {
    return 1 / (1 + std::exp(-x));
}

float java_sigmoid(float x) {
    return 1 / (1 + (float) std::exp((double) -x));
}

double java_tanh(double z) {
    return std::tanh(z);
}

float java_tanh(float z) {
    return (float) std::tanh((double) z);
}

// The standard LSTM cell's activations as the Java reference computes them (CpuActivations64 / CpuActivations32):
// exact in double; in float, Eigen's 13/6 rational tanh on inputs clamped to +-7.90531110763549805 and
// sigmoid(x) = 0.5 + 0.5 tanh(x / 2), within 3.9e-7 (tanh) and 2.1e-7 (sigmoid) of the exact functions.
double java_cell_sigmoid(double x) {
    return java_sigmoid(x);
}

double java_cell_tanh(double z) {
    return java_tanh(z);
}

float java_cell_tanh(float x) {
    const float clamp = 7.90531110763549805f;
    const float xc = std::fmax(-clamp, std::fmin(clamp, x));
    const float x2 = xc * xc;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    p = xc * p;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    return p / q;
}

float java_cell_sigmoid(float x) {
    return 0.5f + 0.5f * java_cell_tanh(0.5f * x);
}

// The reference of an activation computed in T is the exact function of T's input, rounded to T: so for float,
// sigmoid is 1 / (1 + e) with e = exp rounded to float, each step rounded -- the reference follows the exact math
// and the tolerance covers the roundings.

template <typename T>
void test_activations(std::mt19937_64& rng) {
    const std::vector<T> xs = inputs<T>(rng, 4000, -30, 30, true);
    {
        Check<T> c("sigmoid_forward_element");
        f32_parity(c, transcendental_parity<T>());
        for (size_t i = 0; i < xs.size(); ++i) {
            c.value((int) i, rnn4j::sigmoid_forward_element(xs[i]), ref_sigmoid(xs[i]), java_sigmoid(xs[i]));
        }
    }
    {
        Check<T> c("tanh_act");
        f32_parity(c, transcendental_parity<T>());
        for (size_t i = 0; i < xs.size(); ++i) {
            c.value((int) i, rnn4j::tanh_act(xs[i]), tanhl(xs[i]), java_tanh(xs[i]));
        }
    }
    const std::vector<T> ys = inputs<T>(rng, 2000, 0, 1, false);
    const std::vector<T> dys = inputs<T>(rng, 2000, -3, 3, false);
    {
        Check<T> c("sigmoid_backward_element");
        for (size_t i = 0; i < ys.size(); ++i) {
            const T y = ys[i], dy = dys[i];
            const long double ref = (long double) dy * (long double) y * (1.0L - (long double) y);
            c.value((int) i, rnn4j::sigmoid_backward_element(dy, y), ref, dy * (y * (1 - y)));
        }
    }
    {
        Check<T> c("sigmoid_grad_from_output");
        Check<T> t("tanh_grad_from_output");
        for (size_t i = 0; i < ys.size(); ++i) {
            const T y = ys[i];
            c.value((int) i, rnn4j::sigmoid_grad_from_output(y), (long double) y * (1.0L - y), y * (1 - y));
            t.value((int) i, rnn4j::tanh_grad_from_output(y), 1.0L - (long double) y * y, 1 - y * y, 1.0L);
        }
    }
}

template <typename T>
void test_seed_lstm(std::mt19937_64& rng) {
    const int n = 3000;
    // Pre-activations: edge values included (saturated gates), biases small, states moderate.
    const std::vector<T> z = inputs<T>(rng, 4 * n, -8, 8, true);
    const std::vector<T> bias = inputs<T>(rng, 4 * n, -1, 1, false);
    const std::vector<T> sp = inputs<T>(rng, n, -3, 3, false);
    {
        Check<T> ci("seed_lstm_forward_element.i"), cf("seed_lstm_forward_element.f"),
            cg("seed_lstm_forward_element.g"), co("seed_lstm_forward_element.o"), cs("seed_lstm_forward_element.s", 4),
            ch("seed_lstm_forward_element.h", 4);
        for (Check<T>* c : {&ci, &cf, &cg, &co, &cs, &ch}) {
            f32_parity(*c, transcendental_parity<T>());
        }
        for (int e = 0; e < n; ++e) {
            const T zi = z[4 * e], zf = z[4 * e + 1], zg = z[4 * e + 2], zo = z[4 * e + 3];
            const T bi = bias[4 * e], bf = bias[4 * e + 1], bg = bias[4 * e + 2], bo = bias[4 * e + 3];
            T gi, gf, gg, go, s, h;
            rnn4j::seed_lstm_forward_element(zi, zf, zg, zo, bi, bf, bg, bo, sp[e], gi, gf, gg, go, s, h);
            // Reference: the exact math on T's pre-activation sums (the sum is rounded to T first, as in Java).
            const T ai = zi + bi, af = zf + bf, ag = zg + bg, ao = zo + bo;
            const long double ri = ref_sigmoid(ai), rf = ref_sigmoid(af), rg = tanhl(ag), ro = ref_sigmoid(ao);
            // s and h are checked against the reference built on this body's rounded gates, so that the tolerance
            // reflects this step's arithmetic, not the gates' (checked above).
            const long double rs = (long double) gg * gi + (long double) sp[e] * gf;
            const long double rh = (long double) s * go;
            // Java, CpuBackend lines: gi = sigmoid(z + b) ...; state = gg * gi + spv * gf; h = state * go2.
            const T ji = java_sigmoid((T) (zi + bi)), jf = java_sigmoid((T) (zf + bf));
            const T jg = java_tanh((T) (zg + bg)), jo = java_sigmoid((T) (zo + bo));
            const T js = jg * ji + sp[e] * jf;
            const T jh = js * jo;
            ci.value(e, gi, ri, ji);
            cf.value(e, gf, rf, jf);
            cg.value(e, gg, rg, jg);
            co.value(e, go, ro, jo);
            cs.value(e, s, rs, js, std::fabs((long double) gg * gi) + std::fabs((long double) sp[e] * gf));
            ch.value(e, h, rh, jh);
        }
    }
    {
        // Backward from gates in their ranges (sigmoid gates in [0, 1], g in [-1, 1]).
        const std::vector<T> gs = inputs<T>(rng, 3 * n, 0, 1, false);
        const std::vector<T> gg = inputs<T>(rng, n, -1, 1, false);
        const std::vector<T> s = inputs<T>(rng, n, -3, 3, false);
        const std::vector<T> dh = inputs<T>(rng, n, -2, 2, false);
        const std::vector<T> dsn = inputs<T>(rng, n, -2, 2, false);
        Check<T> ci("seed_lstm_backward_element.di", 8), cf("seed_lstm_backward_element.df", 8),
            cg("seed_lstm_backward_element.dg", 8), co("seed_lstm_backward_element.do", 8),
            cs("seed_lstm_backward_element.dsPrev", 8);
        for (int e = 0; e < n; ++e) {
            const T i = gs[3 * e], f = gs[3 * e + 1], o = gs[3 * e + 2], g = gg[e];
            T di, df, dg, dout, dsp;
            rnn4j::seed_lstm_backward_element(i, f, g, o, s[e], sp[e], dh[e], dsn[e], di, df, dg, dout, dsp);
            // Reference: the exact math on this body's rounded ds (ds itself is checked through dsPrev = ds * f).
            const long double Li = i, Lf = f, Lg = g, Lo = o, Ls = s[e], Lsp = sp[e], Ldh = dh[e], Ldsn = dsn[e];
            const long double rds = Lo * Ldh + Ldsn;
            const T ds = o * dh[e] + dsn[e]; // as rounded in T (Java: ds = go2 * dhj + dsnv)
            const long double Lds = ds;
            const long double rdi = (1 - Li) * Li * (Lg * Lds);
            const long double rdf = (1 - Lf) * Lf * (Lsp * Lds);
            const long double rdg = (1 - Lg * Lg) * (Li * Lds);
            const long double rdo = (1 - Lo) * Lo * (Ls * Ldh);
            const long double rdsp = rds * Lf;
            // Java, CpuBackend lines.
            const T dO = s[e] * dh[e], dI = g * ds, dG = i * ds, dF = sp[e] * ds;
            const T ji = (1 - i) * i * dI, jf = (1 - f) * f * dF, jo = (1 - o) * o * dO, jg = (1 - g * g) * dG;
            const T jsp = ds * f;
            ci.value(e, di, rdi, ji);
            cf.value(e, df, rdf, jf);
            cg.value(e, dg, rdg, jg, std::fabs(Li * Lds)); // 1 - g*g cancels near |g| = 1
            co.value(e, dout, rdo, jo);
            // dsPrev's reference uses the exact ds, whose sum may cancel.
            cs.value(e, dsp, rdsp, jsp, (std::fabs(Lo * Ldh) + std::fabs(Ldsn)) * Lf);
        }
    }
}

template <typename T>
void test_standard_lstm(std::mt19937_64& rng) {
    const int n = 3000;
    // Pre-activations: edge values included (saturated gates), both biases small, states moderate.
    const std::vector<T> z = inputs<T>(rng, 4 * n, -8, 8, true);
    const std::vector<T> bih = inputs<T>(rng, 4 * n, -1, 1, false);
    const std::vector<T> bhh = inputs<T>(rng, 4 * n, -1, 1, false);
    const std::vector<T> cp = inputs<T>(rng, n, -3, 3, false);
    {
        Check<T> ci("standard_lstm_forward_element.i"), cf("standard_lstm_forward_element.f"),
            cg("standard_lstm_forward_element.g"), co("standard_lstm_forward_element.o"),
            cc("standard_lstm_forward_element.c", 4), ch("standard_lstm_forward_element.h", 4);
        for (Check<T>* c : {&ci, &cf, &cg, &co, &cc, &ch}) {
            f32_parity(*c, transcendental_parity<T>());
        }
        for (int e = 0; e < n; ++e) {
            const T zi = z[4 * e], zf = z[4 * e + 1], zg = z[4 * e + 2], zo = z[4 * e + 3];
            const T bii = bih[4 * e], bif = bih[4 * e + 1], big = bih[4 * e + 2], bio = bih[4 * e + 3];
            const T bhi = bhh[4 * e], bhf = bhh[4 * e + 1], bhg = bhh[4 * e + 2], bho = bhh[4 * e + 3];
            T gi, gf, gg, go, c, h;
            rnn4j::standard_lstm_forward_element(zi, zf, zg, zo, bii, bif, big, bio, bhi, bhf, bhg, bho, cp[e], gi, gf,
                                                 gg, go, c, h);
            // Reference: the exact math on T's pre-activation sums (preact + b_ih, then + b_hh, each rounded to T
            // as in Java).
            const T ai = (T) ((T) (zi + bii) + bhi), af = (T) ((T) (zf + bif) + bhf);
            const T ag = (T) ((T) (zg + big) + bhg), ao = (T) ((T) (zo + bio) + bho);
            const long double ri = ref_sigmoid(ai), rf = ref_sigmoid(af), rg = tanhl(ag), ro = ref_sigmoid(ao);
            // c and h against the reference built on this body's rounded gates (and h on its rounded c), so that the
            // tolerance reflects this step's arithmetic only.
            const long double rc = (long double) gf * cp[e] + (long double) gi * gg;
            const long double rh = (long double) go * tanhl((long double) c);
            // Java, CpuBackend lines: gi = sigmoid(z + bih + bhh) ...; cell = gf * cpv + gi * gg;
            // h = go2 * tanh(cell).
            const T ji = java_cell_sigmoid(ai), jf = java_cell_sigmoid(af), jg = java_cell_tanh(ag),
                jo = java_cell_sigmoid(ao);
            const T jc = jf * cp[e] + ji * jg;
            const T jh = jo * java_cell_tanh(jc);
            ci.value(e, gi, ri, ji);
            cf.value(e, gf, rf, jf);
            cg.value(e, gg, rg, jg);
            co.value(e, go, ro, jo);
            cc.value(e, c, rc, jc, std::fabs((long double) gf * cp[e]) + std::fabs((long double) gi * gg));
            ch.value(e, h, rh, jh);
        }
    }
    {
        // Backward from gates in their ranges (sigmoid gates in [0, 1], g in [-1, 1]).
        const std::vector<T> gs = inputs<T>(rng, 3 * n, 0, 1, false);
        const std::vector<T> gg = inputs<T>(rng, n, -1, 1, false);
        const std::vector<T> c = inputs<T>(rng, n, -3, 3, false);
        const std::vector<T> dh = inputs<T>(rng, n, -2, 2, false);
        const std::vector<T> dcn = inputs<T>(rng, n, -2, 2, false);
        Check<T> ci("standard_lstm_backward_element.di", 8), cf("standard_lstm_backward_element.df", 8),
            cg("standard_lstm_backward_element.dg", 8), co("standard_lstm_backward_element.do", 8),
            cs("standard_lstm_backward_element.dcPrev", 8);
        for (Check<T>* c : {&ci, &cf, &cg, &co, &cs}) {
            f32_parity(*c, transcendental_parity<T>());
        }
        for (int e = 0; e < n; ++e) {
            const T i = gs[3 * e], f = gs[3 * e + 1], o = gs[3 * e + 2], g = gg[e];
            T di, df, dg, dout, dcp;
            rnn4j::standard_lstm_backward_element(i, f, g, o, c[e], cp[e], dh[e], dcn[e], di, df, dg, dout, dcp);
            // Reference: the exact math, tanh(c) in long double; di, df, dg on the Java-rounded dc (dc itself is
            // checked exactly through dcPrev = dc * f).
            const long double Li = i, Lf = f, Lg = g, Lo = o, Lc = c[e], Lcp = cp[e], Ldh = dh[e], Ldcn = dcn[e];
            const long double rtc = tanhl(Lc);
            const long double rdc = Ldh * Lo * (1 - rtc * rtc) + Ldcn;
            // Java, CpuBackend lines: tc = tanh(c); dc = dhj * go2 * (1 - tc * tc) + dcn; ...
            const T jtc = java_cell_tanh(c[e]);
            const T jdc = dh[e] * o * (1 - jtc * jtc) + dcn[e];
            const long double Ldc = jdc;
            const long double rdi = Ldc * Lg * Li * (1 - Li);
            const long double rdf = Ldc * Lcp * Lf * (1 - Lf);
            const long double rdg = Ldc * Li * (1 - Lg * Lg);
            const long double rdo = Ldh * rtc * Lo * (1 - Lo);
            const long double rdcp = rdc * Lf;
            const T ji = jdc * g * i * (1 - i), jf = jdc * cp[e] * f * (1 - f), jg = jdc * i * (1 - g * g);
            const T jo = dh[e] * jtc * o * (1 - o);
            const T jcp = jdc * f;
            ci.value(e, di, rdi, ji);
            cf.value(e, df, rdf, jf);
            cg.value(e, dg, rdg, jg, std::fabs(Ldc * Li)); // 1 - g*g cancels near |g| = 1
            co.value(e, dout, rdo, jo);
            // dcPrev's reference uses the exact dc, whose sum may cancel (and 1 - tc*tc near |tc| = 1).
            cs.value(e, dcp, rdcp, jcp, (std::fabs(Ldh * Lo) + std::fabs(Ldcn)) * Lf);
        }
    }
}

template <typename T>
void test_sum_rows_and_sgd(std::mt19937_64& rng) {
    for (int rows : {0, 1, 5, 64}) {
        const int cols = 37;
        for (int accumulate = 0; accumulate <= 1; ++accumulate) {
            const std::vector<T> src = inputs<T>(rng, std::max(1, rows * cols), -2, 2, false);
            const std::vector<T> dst = inputs<T>(rng, cols, -2, 2, false);
            Check<T> c("sum_rows_column.rows" + std::to_string(rows) + ".acc" + std::to_string(accumulate), rows + 1);
            for (int j = 0; j < cols; ++j) {
                const T got = rnn4j::sum_rows_column(rows, cols, j, src.data(), accumulate ? dst[j] : T(0));
                T java = accumulate ? dst[j] : 0; // Java: sum = acc ? dv : 0; sum += sv[r * cols + j]
                long double ref = accumulate ? (long double) dst[j] : 0.0L;
                long double mag = std::fabs(ref);
                for (int r = 0; r < rows; ++r) {
                    java += src[r * cols + j];
                    ref += src[r * cols + j];
                    mag += std::fabs((long double) src[r * cols + j]);
                }
                c.value(j, got, ref, java, mag); // summation error scales with the sum of magnitudes
            }
        }
    }
    const int n = 3000;
    const std::vector<T> p = inputs<T>(rng, n, -5, 5, true);
    const std::vector<T> g = inputs<T>(rng, n, -5, 5, false);
    for (double lr_d : {0.1, 0.01, 1.0, 0.0}) {
        const T lr = (T) lr_d; // the learning rate as rounded to T (Java: float lr = (float) learningRate)
        Check<T> c("sgd_element.lr" + std::to_string(lr_d), 2);
        for (int i = 0; i < n; ++i) {
            T java = p[i];
            java -= lr * g[i]; // Java: pv[i] -= lr * gv[i]
            c.value(i, rnn4j::sgd_element(p[i], g[i], lr), (long double) p[i] - (long double) lr * g[i], java,
                    std::fabs((long double) p[i]) + std::fabs((long double) lr * g[i]));
        }
    }
}

// The tiled GEMM kernel, emulated: every block of the grid, its threads in lockstep phases (load the tiles, sync,
// accumulate, sync), with the kernel's own helpers. Tiles start as NaN so that a slot no thread loads shows up.
template <typename T>
void emulate_gemm(int transA, int transB, int m, int n, int k, T alpha, const T* A, int lda, const T* B, int ldb,
                  T beta, T* C, int ldc) {
    const int gridX = (n + kGemmTile - 1) / kGemmTile;
    const int gridY = (m + kGemmTile - 1) / kGemmTile;
    for (int by = 0; by < gridY; ++by) {
        for (int bx = 0; bx < gridX; ++bx) {
            const int row0 = by * kGemmTile, col0 = bx * kGemmTile;
            T acc[kGemmTile][kGemmTile];
            for (auto& r : acc) {
                for (T& v : r) {
                    v = T(0);
                }
            }
            for (int p0 = 0; p0 < k; p0 += kGemmTile) {
                T tileA[kGemmTile][kGemmTile + 1], tileB[kGemmTile][kGemmTile + 1];
                for (int a = 0; a < kGemmTile; ++a) {
                    for (int b = 0; b <= kGemmTile; ++b) {
                        tileA[a][b] = tileB[a][b] = std::numeric_limits<T>::quiet_NaN();
                    }
                }
                for (int ty = 0; ty < kGemmTile; ++ty) {
                    for (int tx = 0; tx < kGemmTile; ++tx) {
                        int aR, aC, bR, bC;
                        rnn4j::gemm_tile_slot(transA, ty, tx, aR, aC);
                        rnn4j::gemm_tile_slot(transB, ty, tx, bR, bC);
                        const int r = row0 + aR, pa = p0 + aC;
                        tileA[aR][aC] = (r < m && pa < k) ? A[rnn4j::gemm_index(transA, lda, r, pa)] : T(0);
                        const int pb = p0 + bR, c = col0 + bC;
                        tileB[bR][bC] = (pb < k && c < n) ? B[rnn4j::gemm_index(transB, ldb, pb, c)] : T(0);
                    }
                }
                const int steps = std::min(kGemmTile, k - p0);
                for (int ty = 0; ty < kGemmTile; ++ty) {
                    for (int tx = 0; tx < kGemmTile; ++tx) {
                        for (int q = 0; q < steps; ++q) {
                            acc[ty][tx] = rnn4j::gemm_accumulate(acc[ty][tx], tileA[ty][q], tileB[q][tx]);
                        }
                    }
                }
            }
            for (int ty = 0; ty < kGemmTile; ++ty) {
                for (int tx = 0; tx < kGemmTile; ++tx) {
                    const int i = row0 + ty, j = col0 + tx;
                    if (i < m && j < n) {
                        T* c = C + (long long) i * ldc + j;
                        *c = rnn4j::gemm_store(alpha, acc[ty][tx], beta, c);
                    }
                }
            }
        }
    }
}

// CpuBackend64.doGemm / CpuBackend32.doGemm, transcribed.
template <typename T>
void java_gemm(bool transA, bool transB, int m, int n, int k, T alphaP, const T* av, int lda, const T* bv, int ldb,
               T betaP, T* cv, int ldc) {
    const int aRow = transA ? 1 : lda, aCol = transA ? lda : 1;
    const int bRow = transB ? 1 : ldb, bCol = transB ? ldb : 1;
    std::vector<T> acc(n);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) acc[j] = 0;
        for (int p = 0; p < k; p++) {
            T aip = av[i * aRow + p * aCol];
            int bp = p * bRow;
            for (int j = 0; j < n; j++) acc[j] += aip * bv[bp + j * bCol];
        }
        int ci = i * ldc;
        if (betaP == 0) {
            for (int j = 0; j < n; j++) cv[ci + j] = alphaP * acc[j];
        } else {
            for (int j = 0; j < n; j++) cv[ci + j] = alphaP * acc[j] + betaP * cv[ci + j];
        }
    }
}

template <typename T>
void test_gemm(std::mt19937_64& rng) {
    const int sizes[] = {1, 3, 16, 17, 33};
    const double betas[] = {0.0, 1.0, -0.5};
    for (int transA = 0; transA <= 1; ++transA) {
        for (int transB = 0; transB <= 1; ++transB) {
            Check<T> c("gemm.transA" + std::to_string(transA) + ".transB" + std::to_string(transB), 64);
            int idx = 0;
            for (int m : sizes) {
                for (int n : sizes) {
                    for (int k : {0, 1, 5, 16, 17, 40}) {
                        for (double beta_d : betas) {
                            const T alpha = (T) (idx % 3 == 0 ? 1.0 : -0.7), beta = (T) beta_d;
                            // Leading dimensions larger than needed, so stride mistakes show.
                            const int lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 3, ldc = n + 1;
                            const int aRows = transA ? k : m, bRows = transB ? n : k;
                            const std::vector<T> A = inputs<T>(rng, std::max(1, aRows * lda), -1, 1, false);
                            const std::vector<T> B = inputs<T>(rng, std::max(1, bRows * ldb), -1, 1, false);
                            std::vector<T> C0 = inputs<T>(rng, m * ldc, -1, 1, false);
                            if (beta == T(0)) {
                                for (T& v : C0) {
                                    v = std::numeric_limits<T>::quiet_NaN(); // must not be read
                                }
                            }
                            std::vector<T> C = C0, J = C0;
                            emulate_gemm<T>(transA, transB, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta,
                                            C.data(), ldc);
                            java_gemm<T>(transA, transB, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, J.data(),
                                         ldc);
                            for (int i = 0; i < m; ++i) {
                                for (int j = 0; j < n; ++j) {
                                    long double ref = 0, mag = 0;
                                    for (int p = 0; p < k; ++p) {
                                        const long double a = transA ? A[p * lda + i] : A[i * lda + p];
                                        const long double b = transB ? B[j * ldb + p] : B[p * ldb + j];
                                        ref += a * b;
                                        mag += std::fabs(a * b);
                                    }
                                    ref = (long double) alpha * ref;
                                    mag = std::fabs((long double) alpha) * mag;
                                    if (beta != T(0)) {
                                        ref += (long double) beta * C0[i * ldc + j];
                                        mag += std::fabs((long double) beta * C0[i * ldc + j]);
                                    }
                                    c.value(idx, C[i * ldc + j], ref, J[i * ldc + j], mag);
                                }
                            }
                            // Padding columns of C (j >= n) untouched.
                            for (int i = 0; i < m; ++i) {
                                for (int j = n; j < ldc; ++j) {
                                    if (!same_bits(C[i * ldc + j], C0[i * ldc + j])) {
                                        std::printf("  gemm wrote C(%d, %d) outside its n = %d columns\n", i, j, n);
                                        ++g_failures;
                                    }
                                }
                            }
                            ++idx;
                        }
                    }
                }
            }
        }
    }
}

// ----- the generic operations (losses.cu, reduce.cu, embedding.cu, dropout.cu, optim.cu) -----

float java_exp(float x) {
    return (float) std::exp((double) x);
}

double java_exp(double x) {
    return std::exp(x);
}

float java_log(float x) {
    return (float) std::log((double) x);
}

double java_log(double x) {
    return std::log(x);
}

float java_sqrt(float x) {
    return (float) std::sqrt((double) x);
}

double java_sqrt(double x) {
    return std::sqrt(x);
}

void expect(bool ok, const std::string& what) {
    ++g_checks;
    if (!ok) {
        ++g_failures;
        std::printf("FAIL %s\n", what.c_str());
    }
}

template <typename T>
void test_indices_and_reduction(std::mt19937_64& rng) {
    const std::string tn = type_name<T>();
    // Indices held as values: integers in [0, limit) only.
    const int limit = 7;
    const T good[] = {T(0), T(-0.0), T(1), T(6)};
    const int goodK[] = {0, 0, 1, 6};
    for (int i = 0; i < 4; ++i) {
        expect(rnn4j::decode_index(good[i], limit) == goodK[i], "decode_index good " + std::to_string(i) + " " + tn);
    }
    const T bad[] = {T(7), T(-1), T(0.5), T(6.5), T(1e30), -T(1e30), std::numeric_limits<T>::quiet_NaN(),
                     std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity(), T(-0.25)};
    for (int i = 0; i < 10; ++i) {
        expect(rnn4j::decode_index(bad[i], limit) == -1, "decode_index bad " + std::to_string(i) + " " + tn);
    }
    expect(rnn4j::decode_index(T(16777215), 1 << 24) == 16777215, "decode_index 2^24 - 1 " + tn);
    // reduce_chunk: Backend.reduceChunk's values (GenericOpsTest checks the Java side with the same numbers).
    expect(rnn4j::reduce_chunk(0, 4096) == 4096 && rnn4j::reduce_chunk(1, 4096) == 4096 &&
               rnn4j::reduce_chunk(65536 * 4096, 4096) == 4096 &&
               rnn4j::reduce_chunk(65536 * 4096 + 1, 4096) == 4352 &&
               rnn4j::reduce_chunk(2147483647, 4096) == 32768 && rnn4j::reduce_chunk(300, 256) == 256 &&
               rnn4j::reduce_chunk(65536 * 256 + 1, 256) == 512,
           "reduce_chunk " + tn);
    // The lane scheme on one chunk of items: against the sum in long double, and bit for bit against the CPU's
    // laneSum transcribed (lane t adds items t, t + 256, ... from 0; then lanes[t] = lanes[t] + lanes[t + s]).
    for (int n : {1, 255, 256, 257, 4096, 5000}) {
        const std::vector<T> items = inputs<T>(rng, n, -3, 3, false);
        T lanes[rnn4j::kReduceLanes];
        for (int t = 0; t < rnn4j::kReduceLanes; ++t) {
            T acc = T(0);
            for (int i = t; i < n; i += rnn4j::kReduceLanes) {
                acc += items[i];
            }
            lanes[t] = acc;
        }
        const T got = rnn4j::lane_tree(lanes);
        std::vector<T> java(rnn4j::kReduceLanes, T(0));
        for (int i = 0; i < n; ++i) {
            java[i % rnn4j::kReduceLanes] += items[i];
        }
        for (int s = rnn4j::kReduceLanes / 2; s > 0; s /= 2) {
            for (int t = 0; t < s; ++t) {
                java[t] = java[t] + java[t + s];
            }
        }
        long double ref = 0, mag = 0;
        for (T x : items) {
            ref += x;
            mag += std::fabs((long double) x);
        }
        Check<T> c("lane_tree.n" + std::to_string(n), n + 2.0);
        c.value(0, got, ref, java[0], mag);
    }
}

// The Java reference's row (CpuBackend64/32.crossEntropyRow, transcribed): max with > ascending from x[0], then the
// sum of exp(x - m) ascending, then -((x[t] - m) - log(s)).
template <typename T>
void java_row_stats(const T* row, int classes, T& m, T& s) {
    m = row[0];
    for (int j = 1; j < classes; ++j) {
        if (row[j] > m) m = row[j];
    }
    s = 0;
    for (int j = 0; j < classes; ++j) {
        s += java_exp(row[j] - m);
    }
}

template <typename T>
void test_generic_losses(std::mt19937_64& rng) {
    const double u = sizeof(T) == sizeof(float) ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);
    for (int classes : {1, 2, 7, 31, 32, 33, 300, 5000}) {
        const int rows = 40;
        std::vector<T> x = inputs<T>(rng, rows * classes, -10, 10, false);
        for (int j = 0; j < classes; ++j) {
            x[j] = (T) (x[j] + T(1000)); // a row of large logits: the log-sum-exp form stays finite
        }
        const T scale = (T) (1.0 / rows);
        // The parity bound of CudaGenericOpParityTest (both precisions: the kernels sum the classes in the warp's
        // order, the CPU sequentially): (classes + 8) 8u absolute, 8u relative; the gradient's absolute part scaled.
        const double atolL = (classes + 8) * 8 * u;
        Check<T> cl("cross_entropy_row_lanes.c" + std::to_string(classes), classes + 8.0);
        Check<T> cg("cross_entropy_grad_element.c" + std::to_string(classes), classes + 8.0);
        cl.parity(atolL, 8 * u);
        cg.parity(atolL * (double) scale, 8 * u);
        int partitionBad = 0;
        std::uniform_int_distribution<int> pick(0, classes - 1);
        for (int r = 0; r < rows; ++r) {
            const T* row = x.data() + r * classes;
            const int target = pick(rng);
            T jm, js;
            java_row_stats(row, classes, jm, js);
            const T jl = -((row[target] - jm) - java_log(js));
            // Reference: the exact math on the inputs.
            long double lm = row[0];
            for (int j = 1; j < classes; ++j) lm = std::max(lm, (long double) row[j]);
            long double ls = 0;
            for (int j = 0; j < classes; ++j) ls += expl((long double) row[j] - lm);
            const long double rl = logl(ls) - ((long double) row[target] - lm);
            cl.value(r, rnn4j::cross_entropy_row_lanes(row, classes, target), rl, jl, 1.0L + std::fabs(logl(ls)));
            T m, s;
            rnn4j::ce_row_stats_lanes(row, classes, m, s);
            // The documented partition, transcribed independently: lane t sums classes t, t + 32, ... ascending from
            // 0; then lanes[t] += lanes[t + h] for h = 16 .. 1. Bit for bit.
            T lanes[32];
            for (int t = 0; t < 32; ++t) {
                lanes[t] = 0;
            }
            for (int j = 0; j < classes; ++j) {
                lanes[j % 32] += rnn4j::exp_p(row[j] - jm);
            }
            for (int h = 16; h > 0; h /= 2) {
                for (int t = 0; t < h; ++t) lanes[t] = lanes[t] + lanes[t + h];
            }
            if (!(m == jm) || !same_bits(s, lanes[0])) {
                ++partitionBad;
            }
            for (int j = 0; j < classes; ++j) {
                const T jp = java_exp(row[j] - jm) / js;
                const T jg = (j == target ? jp - 1 : jp) * scale;
                const long double rp = expl((long double) row[j] - lm) / ls;
                cg.value(r * classes + j, rnn4j::cross_entropy_grad_element(row[j], m, s, j == target, scale),
                         (rp - (j == target ? 1.0L : 0.0L)) * scale, jg, (long double) scale);
            }
        }
        expect(partitionBad == 0, "ce_row_stats_lanes: the max and the 32-lane pairwise sum, c" +
                                      std::to_string(classes) + " " + type_name<T>());
        expect(std::isnan((double) rnn4j::cross_entropy_row_lanes(x.data(), classes, -1)),
               "cross_entropy_row_lanes of a bad target is NaN " + std::string(type_name<T>()));
    }
    // Rows with NaN or infinities: the loss is NaN exactly where the Java reference's is (the max may differ on a
    // NaN row, the sum is NaN on both); -inf logits are probability 0.
    {
        const T nanv = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
        const int classes = 70;
        int bad = 0;
        for (int where : {0, 1, 33, 69}) {
            for (T v : {nanv, inf, -inf}) {
                std::vector<T> row = inputs<T>(rng, classes, -3, 3, false);
                row[where] = v;
                for (int target : {0, 5, 69}) {
                    T jm, js;
                    java_row_stats(row.data(), classes, jm, js);
                    const T jl = -((row[target] - jm) - java_log(js));
                    const T got = rnn4j::cross_entropy_row_lanes(row.data(), classes, target);
                    if (std::isnan((double) jl) != std::isnan((double) got) ||
                        (!std::isnan((double) jl) && std::fabs((double) got - (double) jl) >
                                                         (classes + 8) * 8 * u * (1 + std::fabs((double) jl)))) {
                        ++bad;
                        std::printf("  CE special row: x[%d] = %g, target %d: got %g, Java %g\n", where,
                                    (double) v, target, (double) got, (double) jl);
                    }
                }
            }
        }
        std::vector<T> allNegInf(5, -inf);
        expect(std::isnan((double) rnn4j::cross_entropy_row_lanes(allNegInf.data(), 5, 2)),
               "cross_entropy_row_lanes of an all -inf row is NaN " + std::string(type_name<T>()));
        expect(bad == 0, "cross_entropy_row_lanes: NaN and infinities as the Java reference " +
                             std::string(type_name<T>()));
    }
    const int n = 3000;
    const std::vector<T> p = inputs<T>(rng, n, -4, 4, true);
    const std::vector<T> t = inputs<T>(rng, n, -4, 4, false);
    Check<T> cm("mse_term", 2), cd("mse_grad_element", 2);
    const T scale = (T) (2.0 / 3000);
    for (int i = 0; i < n; ++i) {
        const T d = p[i] - t[i];
        const long double ld = (long double) p[i] - t[i];
        cm.value(i, rnn4j::mse_term(p[i], t[i]), ld * ld, d * d, 0);
        cd.value(i, rnn4j::mse_grad_element(p[i], t[i], scale), ld * scale, d * scale, 0);
    }
}

template <typename T>
void test_reduce_elements(std::mt19937_64& rng) {
    const int n = 3000;
    const std::vector<T> x = inputs<T>(rng, n, -5, 5, true);
    const std::vector<T> b = inputs<T>(rng, n, -5, 5, false);
    Check<T> ca("bias_add_element"), cs("square_term");
    for (int i = 0; i < n; ++i) {
        ca.value(i, rnn4j::bias_add_element(x[i], b[i]), (long double) x[i] + b[i], x[i] + b[i],
                 std::fabs((long double) x[i]) + std::fabs((long double) b[i]));
        cs.value(i, rnn4j::square_term(x[i]), (long double) x[i] * x[i], x[i] * x[i]);
    }
    Check<T> cc("clip_coefficient", 4);
    const T norms[] = {T(10), T(0.5), T(3.7), T(0), T(1e30), T(2), T(1e-7)};
    const T maxes[] = {T(1), T(1), T(2.5), T(1), T(1e-3), T(0), T(5)};
    for (int i = 0; i < 7; ++i) {
        // Java: c = 1 / (total + (T) 1e-6) * (T) maxNorm; c > 1 ? 1 : c.
        T jc = T(1) / (norms[i] + (T) 1e-6) * maxes[i];
        jc = jc > 1 ? T(1) : jc;
        long double rc = (long double) maxes[i] / ((long double) norms[i] + (long double) (T) 1e-6);
        rc = rc > 1 ? 1.0L : rc;
        cc.value(i, rnn4j::clip_coefficient(norms[i], maxes[i]), rc, jc);
    }
    expect(std::isnan((double) rnn4j::clip_coefficient(std::numeric_limits<T>::quiet_NaN(), T(1))),
           "clip_coefficient keeps NaN " + std::string(type_name<T>()));
}

void test_philox() {
    // Random123 kat_vectors: counter[4] key[2] -> output[4].
    const unsigned int kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
        {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu,
         0xa20bc7c6u, 0x6d5451fdu},
        {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu,
         0x5001e420u, 0x24126ea1u}};
    for (int k = 0; k < 3; ++k) {
        unsigned int out[4];
        rnn4j::philox4x32_10(kat[k][0], kat[k][1], kat[k][2], kat[k][3], kat[k][4], kat[k][5], out);
        expect(out[0] == kat[k][6] && out[1] == kat[k][7] && out[2] == kat[k][8] && out[3] == kat[k][9],
               "philox4x32_10 known answer " + std::to_string(k));
    }
    expect(rnn4j::dropout_mask(5u, 6u, 2.0) == 0.0 && rnn4j::dropout_mask(6u, 6u, 2.0) == 2.0 &&
               rnn4j::dropout_mask(0xffffffffu, 0u, 1.5f) == 1.5f && rnn4j::dropout_mask(0u, 1u, 1.5f) == 0.0f,
           "dropout_mask: dropped below the threshold");
}

template <typename T>
T rnd(double x) {
    return (T) x;
}

template <typename T>
void test_optimizers(std::mt19937_64& rng) {
    const int n = 500;
    const double hyper[3][5] = {{1e-3, 0.9, 0.999, 1e-8, 0}, {0.05, 0.9, 0.99, 1e-6, 0.01}, {0.1, 0.3, 0.5, 1e-3, 0.1}};
    for (int h = 0; h < 3; ++h) {
        const double lr = hyper[h][0], beta1 = hyper[h][1], beta2 = hyper[h][2], eps = hyper[h][3], wd = hyper[h][4];
        std::vector<T> p = inputs<T>(rng, n, -1, 1, false), m(n, T(0)), v(n, T(0));
        std::vector<T> jp = p, jm = m, jv = v;
        std::vector<long double> rp(p.begin(), p.end()), rm(n, 0), rv(n, 0);
        Check<T> cp("adam_element.h" + std::to_string(h), 64);
        for (int step = 1; step <= 5; ++step) {
            const std::vector<T> g = inputs<T>(rng, n, -2, 2, false);
            double negStepSize, bc2Sqrt;
            rnn4j::adam_step_scalars((double) (T) step, lr, beta1, beta2, negStepSize, bc2Sqrt);
            expect(negStepSize == -(lr / (1 - std::pow(beta1, (double) step))) &&
                       bc2Sqrt == std::sqrt(1 - std::pow(beta2, (double) step)),
                   "adam_step_scalars " + std::to_string(step));
            const T w = rnd<T>(1 - beta1), b2 = rnd<T>(beta2), omb2 = rnd<T>(1 - beta2);
            const T e = rnd<T>(eps), wdT = rnd<T>(wd), nss = (T) negStepSize, bcs = (T) bc2Sqrt;
            for (int i = 0; i < n; ++i) {
                p[i] = rnn4j::adam_element(p[i], g[i], m[i], v[i], nss, bcs, w, b2, omb2, e, wdT, wd != 0);
                // Java, CpuBackend lines.
                T gi = g[i];
                if (wd != 0) gi = gi + wdT * jp[i];
                jm[i] = w < 0.5 ? jm[i] + w * (gi - jm[i]) : gi - (gi - jm[i]) * (1 - w);
                jv[i] = jv[i] * b2 + omb2 * gi * gi;
                const T denom = java_sqrt(jv[i]) / bcs + e;
                jp[i] = jp[i] + nss * jm[i] / denom;
                // Reference: PyTorch's formulas exactly, from the previous step's reference state.
                long double lg = g[i];
                if (wd != 0) lg += (long double) wd * rp[i];
                rm[i] = beta1 * rm[i] + (1 - (long double) beta1) * lg;
                rv[i] = beta2 * rv[i] + (1 - (long double) beta2) * lg * lg;
                const long double bc1 = 1 - powl(beta1, step), bc2 = 1 - powl(beta2, step);
                rp[i] -= lr / bc1 * rm[i] / (sqrtl(rv[i]) / sqrtl(bc2) + eps);
            }
        }
        for (int i = 0; i < n; ++i) {
            // The reference runs five steps in exact arithmetic: the tolerance covers five steps of rounding of
            // moves of size about lr.
            cp.value(i, p[i], rp[i], jp[i], 1.0L + 10 * lr);
        }
    }
    Check<T> cs("sgd_momentum_element", 8);
    std::vector<T> p = inputs<T>(rng, n, -1, 1, false), buf(n, T(7)), jp = p, jb = buf;
    std::vector<long double> rp(p.begin(), p.end()), rb(n, 0);
    const T negLr = rnd<T>(-0.05), mom = rnd<T>(0.9), wd = rnd<T>(0.01);
    for (int step = 0; step < 4; ++step) {
        const std::vector<T> g = inputs<T>(rng, n, -2, 2, false);
        for (int i = 0; i < n; ++i) {
            p[i] = rnn4j::sgd_momentum_element(p[i], g[i], buf[i], step == 0, negLr, mom, wd, true);
            T gi = g[i] + wd * jp[i];
            jb[i] = step == 0 ? gi : jb[i] * mom + gi;
            jp[i] = jp[i] + negLr * jb[i];
            const long double lg = g[i] + (long double) wd * rp[i];
            rb[i] = step == 0 ? lg : (long double) mom * rb[i] + lg;
            rp[i] += (long double) negLr * rb[i];
        }
    }
    for (int i = 0; i < n; ++i) {
        cs.value(i, p[i], rp[i], jp[i], 2.0L);
    }
}

template <typename T>
void test_all(std::mt19937_64& rng) {
    test_activations<T>(rng);
    test_seed_lstm<T>(rng);
    test_standard_lstm<T>(rng);
    test_sum_rows_and_sgd<T>(rng);
    test_gemm<T>(rng);
    test_indices_and_reduction<T>(rng);
    test_generic_losses<T>(rng);
    test_reduce_elements<T>(rng);
    test_optimizers<T>(rng);
}

// The float32 bodies that call expf/tanhf/logf, again with their results moved by the documented worst-case ulps.
void test_float32_under_shifts(std::mt19937_64& rng) {
    const int shifts[][3] = {{-2, -2, -1}, {2, 2, 1}, {-2, 2, 1}, {2, -2, -1}};
    for (const auto& sh : shifts) {
        rnn4j_test::g_shift_exp = sh[0];
        rnn4j_test::g_shift_tanh = sh[1];
        rnn4j_test::g_shift_log = sh[2];
        test_activations<float>(rng);
        test_seed_lstm<float>(rng);
        test_standard_lstm<float>(rng);
        test_generic_losses<float>(rng);
    }
    rnn4j_test::g_shift_exp = rnn4j_test::g_shift_tanh = rnn4j_test::g_shift_log = 0;
}

} // namespace

int main() {
    std::mt19937_64 rng(20240611);
    test_all<float>(rng);
    test_float32_under_shifts(rng);
    test_all<double>(rng);
    test_philox();
    std::printf("%d checks, %d failed\n", g_checks, g_failures);
    return g_failures == 0 ? 0 : 1;
}

#!/usr/bin/env bash
# rnn4j's CPU GEMM against numpy's matmul, same shapes, same number of repeats, in one run.
#
#   bench/scripts/gemm-vs-numpy.sh [--sizes 128,256,512,1024,lstm] [--repeats 7] [--precisions float32,float64]
#                                  [--threads N] [--numpy-threads N] [--rounds 3]
#
# rnn4j: org.rnn4j.bench.GemmTiming on the cpu backend (Backend.gemm, C = A * op(B), alpha 1, beta 0, packed
# row-major, after at least 3 calls and 1 s of warm-up). numpy: np.matmul(a, op(b), out=c) on C-contiguous arrays of
# the same shapes and dtype (for lstm, b is stored (n, k) and passed as b.T, as rnn4j's transposed B), after the same
# warm-up. Each time is the median of --repeats single calls. Sizes: N for N x N x N, or lstm (64 x 1024 x 256, B
# transposed). ratio = numpy time / rnn4j time: >= 1 means rnn4j is faster.
#
# numpy's BLAS may use several threads; --numpy-threads N sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
# MKL_NUM_THREADS for it (default: numpy's own default). --threads N sets both sides: those and rnn4j's
# -Drnn4j.cpu.threads=N. The rnn4j line '# CPU (...)' says how many threads it uses and its GEMM route
# (RNN4J_CPU_GEMM, default auto: OpenBLAS from 2^18 multiply-adds). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
# unset for both sides (each runs OpenBLAS with its own detection). --rounds R interleaves the two R times (rnn4j,
# then numpy, per round): each time below is the median over rounds, the ratio the median of the rounds' ratios,
# so that a busy spell on a shared machine hits both alike. Needs python3 with numpy; builds
# bench/target/benchmarks.jar when it is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/bench/target/benchmarks.jar"
sizes="128,256,512,1024,lstm"
repeats=7
precisions="float32,float64"
threads=""
both_threads=""
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift ;;
    --repeats) repeats="$2"; shift ;;
    --precisions) precisions="$2"; shift ;;
    --numpy-threads) threads="$2"; shift ;;
    --threads) both_threads="$2"; threads="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    -h|--help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gemm-vs-numpy.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
python3 -c 'import numpy' 2>/dev/null || { echo "gemm-vs-numpy.sh: python3 with numpy is needed" >&2; exit 2; }
if [ ! -f "$jar" ]; then
  echo "gemm-vs-numpy.sh: building $jar..." >&2
  (cd "$root" && mvn -B -q -DskipTests package -pl bench -am) >&2
fi
case "$rounds" in ''|*[!0-9]*|0) echo "gemm-vs-numpy.sh: --rounds takes a positive integer" >&2; exit 2 ;; esac
if [ -n "$threads" ]; then
  export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
fi
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
java_threads=()
[ -n "$both_threads" ] && java_threads=("-Drnn4j.cpu.threads=$both_threads")

rnn4j_out="$(mktemp)"
numpy_out="$(mktemp)"
trap 'rm -f "$rnn4j_out" "$numpy_out"' EXIT
load_before="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
IFS=',' read -r -a precs <<< "$precisions"
for ((round = 1; round <= rounds; round++)); do
  for p in "${precs[@]}"; do
    # shellcheck disable=SC2086
    java ${JAVA_OPTS:-} "${java_threads[@]}" -cp "$jar" org.rnn4j.bench.GemmTiming --backend cpu --precision "$p" \
        --sizes "$sizes" --repeats "$repeats" | sed "s/^gemm /gemm round=$round /" >> "$rnn4j_out"
  done
  python3 - "$sizes" "$repeats" "$precisions" "$round" >> "$numpy_out" <<'PY'
import sys, time
import numpy as np
sizes, repeats, precisions, rnd = sys.argv[1].split(","), int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4]

def shape(label):
    if label == "lstm":
        return 64, 1024, 256, True
    n = int(label)
    return n, n, n, False

for prec in precisions:
    dtype = np.float32 if prec == "float32" else np.float64
    for label in sizes:
        m, n, k, trans_b = shape(label)
        rng = np.random.default_rng(0)
        a = np.ascontiguousarray(rng.uniform(-1, 1, (m, k)).astype(dtype))
        b = np.ascontiguousarray(rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(dtype))
        opb = b.T if trans_b else b
        c = np.empty((m, n), dtype=dtype)
        start = time.perf_counter()
        i = 0
        while i < 3 or time.perf_counter() - start < 1.0:   # warm-up as GemmTiming's: 3 calls and 1 s
            np.matmul(a, opb, out=c)
            i += 1
        t = []
        for _ in range(repeats):
            s = time.perf_counter()
            np.matmul(a, opb, out=c)
            t.append(time.perf_counter() - s)
        print("numpy round=%s precision=%s size=%s median_s=%.6e" % (rnd, prec, label, float(np.median(t))))
PY
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

python3 - "$rnn4j_out" "$sizes" "$repeats" "$precisions" "$numpy_out" "$rounds" "$load_before" "$load_after" <<'PY'
import io, os, platform, statistics, sys, contextlib
import numpy as np

rnn4j_file, sizes, repeats, precisions = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4].split(",")
numpy_file, rounds, load_before, load_after = sys.argv[5], int(sys.argv[6]), sys.argv[7], sys.argv[8]

def read(path):
    times, desc = {}, []
    for line in open(path):
        line = line.strip()
        if line.startswith("#"):
            desc.append(line[1:].strip())
        elif line.startswith(("gemm ", "numpy ")):
            kv = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            times.setdefault((kv["precision"], kv["size"]), {})[kv["round"]] = float(kv["median_s"])
    return times, desc

rnn4j, rnn4j_desc = read(rnn4j_file)
numpy_t, _ = read(numpy_file)

def shape(label):
    if label == "lstm":
        return 64, 1024, 256, True
    n = int(label)
    return n, n, n, False

def blas_info():
    lines = []
    try:
        from threadpoolctl import threadpool_info
        for p in threadpool_info():
            lines.append("threadpoolctl: %s %s (%s), %s threads" % (p.get("internal_api"), p.get("version"),
                         p.get("filepath"), p.get("num_threads")))
    except ImportError:
        lines.append("threadpoolctl: not installed (thread count from the environment: OPENBLAS_NUM_THREADS=%s "
                     "OMP_NUM_THREADS=%s MKL_NUM_THREADS=%s; unset means the BLAS default, usually one per core)"
                     % tuple(os.environ.get(v, "unset") for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                                    "MKL_NUM_THREADS")))
    try:
        cfg = np.show_config(mode="dicts")
        for kind in ("blas", "lapack"):
            d = cfg.get("Build Dependencies", {}).get(kind, {})
            if d:
                lines.append("numpy.show_config %s: %s %s (%s)" % (kind, d.get("name"), d.get("version"),
                             d.get("openblas configuration", d.get("detection method", ""))))
    except TypeError:  # numpy < 1.26: show_config prints, takes no mode
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            np.show_config()
        lines += ["numpy.show_config: " + l for l in buf.getvalue().splitlines() if l.strip()][:12]
    return lines

print("GEMM, C = A * op(B): rnn4j cpu backend (Backend.gemm) vs numpy matmul; median of %d calls each, %d "
      "interleaved rounds" % (repeats, rounds))
print("rnn4j: " + "; ".join(sorted(set(rnn4j_desc))))
print("numpy %s on Python %s, %s, %d CPUs" % (np.__version__, platform.python_version(), platform.machine(),
                                             os.cpu_count()))
for l in blas_info():
    print(l)
print("load average before: %s, after: %s (%d CPUs)" % (load_before, load_after, os.cpu_count()))
load = os.getloadavg()[0]
if load > (os.cpu_count() or 1) * 0.75:
    print("WARNING: the machine is busy (1-min load %.2f on %d CPUs): multithreaded timings, numpy's BLAS above all, "
          "can be far off; rerun when it is idle or compare single-threaded (--threads 1)." % (load, os.cpu_count()))
print()
head = ("precision", "size", "m x n x k", "rnn4j s", "numpy s", "numpy/rnn4j", "rnn4j GFLOP/s", "numpy GFLOP/s",
        "ratio per round")
rows = []
for prec in precisions:
    for label in sizes:
        m, n, k, t = shape(label)
        flops = 2.0 * m * n * k
        ours, theirs = rnn4j.get((prec, label), {}), numpy_t.get((prec, label), {})
        both = sorted(set(ours) & set(theirs))
        if not both:
            rows.append((prec, label, "%dx%dx%d%s" % (m, n, k, " B^T" if t else ""), "missing", "-", "-", "-", "-",
                         "-"))
            continue
        r_s = statistics.median(ours[r] for r in both)
        np_s = statistics.median(theirs[r] for r in both)
        ratios = [theirs[r] / ours[r] for r in both]
        rows.append((prec, label, "%dx%dx%d%s" % (m, n, k, " B^T" if t else ""), "%.3e" % r_s, "%.3e" % np_s,
                     "%.3f" % statistics.median(ratios), "%.2f" % (flops / r_s / 1e9), "%.2f" % (flops / np_s / 1e9),
                     " ".join("%.2f" % x for x in ratios)))
w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
fmt = "  ".join("%%-%ds" % x for x in w)
print(fmt % head)
for r in rows:
    print(fmt % r)
print()
print("numpy/rnn4j >= 1: rnn4j is faster; < 1: numpy is faster (by 1/ratio).")
PY

#!/usr/bin/env bash
# rnn4j's CPU GEMM against numpy's matmul, same shapes, same number of repeats, in one run.
#
#   bench/scripts/gemm-vs-numpy.sh [--sizes 128,256,512,1024,lstm] [--repeats 7] [--precisions float32,float64]
#                                  [--numpy-threads N]
#
# rnn4j: org.rnn4j.bench.GemmTiming on the cpu backend (Backend.gemm, C = A * op(B), alpha 1, beta 0, packed
# row-major, after at least 3 calls and 1 s of warm-up). numpy: np.matmul(a, op(b), out=c) on C-contiguous arrays of
# the same shapes and dtype (for lstm, b is stored (n, k) and passed as b.T, as rnn4j's transposed B), after the same
# warm-up. Each time is the median of --repeats single calls. Sizes: N for N x N x N, or lstm (64 x 1024 x 256, B
# transposed). ratio = numpy time / rnn4j time: >= 1 means rnn4j is faster.
#
# numpy's BLAS may use several threads; --numpy-threads N sets OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
# MKL_NUM_THREADS for it (default: numpy's own default). The rnn4j line '# CPU (...)' says how many threads it uses.
# Needs python3 with numpy; builds bench/target/benchmarks.jar when it is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/bench/target/benchmarks.jar"
sizes="128,256,512,1024,lstm"
repeats=7
precisions="float32,float64"
threads=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes="$2"; shift ;;
    --repeats) repeats="$2"; shift ;;
    --precisions) precisions="$2"; shift ;;
    --numpy-threads) threads="$2"; shift ;;
    -h|--help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gemm-vs-numpy.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
python3 -c 'import numpy' 2>/dev/null || { echo "gemm-vs-numpy.sh: python3 with numpy is needed" >&2; exit 2; }
if [ ! -f "$jar" ]; then
  echo "gemm-vs-numpy.sh: building $jar..." >&2
  (cd "$root" && mvn -B -q -DskipTests package -pl bench -am) >&2
fi
if [ -n "$threads" ]; then
  export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
fi

rnn4j_out="$(mktemp)"
trap 'rm -f "$rnn4j_out"' EXIT
IFS=',' read -r -a precs <<< "$precisions"
for p in "${precs[@]}"; do
  # shellcheck disable=SC2086
  java ${JAVA_OPTS:-} -cp "$jar" org.rnn4j.bench.GemmTiming --backend cpu --precision "$p" --sizes "$sizes" \
      --repeats "$repeats" >> "$rnn4j_out"
done

python3 - "$rnn4j_out" "$sizes" "$repeats" "$precisions" <<'PY'
import io, os, platform, sys, time, contextlib
import numpy as np

rnn4j_file, sizes, repeats, precisions = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4].split(",")

rnn4j = {}
rnn4j_desc = []
for line in open(rnn4j_file):
    line = line.strip()
    if line.startswith("#"):
        rnn4j_desc.append(line[1:].strip())
    elif line.startswith("gemm "):
        kv = dict(f.split("=", 1) for f in line.split()[1:])
        rnn4j[(kv["precision"], kv["size"])] = float(kv["median_s"])

def shape(label):
    if label == "lstm":
        return 64, 1024, 256, True
    n = int(label)
    return n, n, n, False

def time_numpy(label, dtype):
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
    return float(np.median(t)), 2.0 * m * n * k

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

print("GEMM, C = A * op(B): rnn4j cpu backend (Backend.gemm) vs numpy matmul; median of %d calls each" % repeats)
print("rnn4j: " + "; ".join(sorted(set(rnn4j_desc))))
print("numpy %s on Python %s, %s, %d CPUs" % (np.__version__, platform.python_version(), platform.machine(),
                                             os.cpu_count()))
for l in blas_info():
    print(l)
load = os.getloadavg()[0]
if load > (os.cpu_count() or 1) * 0.75:
    print("WARNING: the machine is busy (1-min load %.2f on %d CPUs): multithreaded timings, numpy's BLAS above all, "
          "can be far off; rerun when it is idle or compare single-threaded (--numpy-threads 1)." % (load, os.cpu_count()))
print()
head = ("precision", "size", "m x n x k", "rnn4j s", "numpy s", "numpy/rnn4j", "rnn4j GFLOP/s", "numpy GFLOP/s")
rows = []
for prec in precisions:
    for label in sizes:
        m, n, k, t = shape(label)
        np_s, flops = time_numpy(label, np.float32 if prec == "float32" else np.float64)
        r_s = rnn4j.get((prec, label))
        rows.append((prec, label, "%dx%dx%d%s" % (m, n, k, " B^T" if t else ""),
                     "%.3e" % r_s if r_s else "missing", "%.3e" % np_s,
                     "%.3f" % (np_s / r_s) if r_s else "-",
                     "%.2f" % (flops / r_s / 1e9) if r_s else "-", "%.2f" % (flops / np_s / 1e9)))
w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
fmt = "  ".join("%%-%ds" % x for x in w)
print(fmt % head)
for r in rows:
    print(fmt % r)
print()
print("numpy/rnn4j >= 1: rnn4j is faster; < 1: numpy is faster (by 1/ratio).")
PY

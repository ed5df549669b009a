#!/usr/bin/env python3
"""PyTorch's nn.LSTM training step against rnn4j's standard cell at the same sizes, in one run, as ratios.

usage: /usr/bin/python3 bench/scripts/torch_vs_rnn4j.py [--device cpu|cuda] [--repeats N]
                                                       [--sizes SIZE:BATCH:STEPS,...] [--threads N]

The step, on both sides: forward of one LSTM layer (input size = hidden size = SIZE) over a (STEPS, BATCH, SIZE)
input from zero state, backward of the loss sum(h * R) (R fixed, random), and a plain SGD update; float32. PyTorch
(Debian's python3-torch on CPU; cuDNN on a GPU, reported with TF32 off and on separately) is timed after warm-up,
median of N, each step synchronised on a GPU; rnn4j by org.rnn4j.bench.LstmTiming (bench/target/benchmarks.jar)
on the matching backend. Both use the same number of CPU threads (--threads, default: the cores), set through the
BLAS environment too (see pin_blas_environment: PyTorch's own setting does not reach its OpenBLAS).
Prints ratio = torch time / rnn4j time (how many times faster rnn4j is), and on the CPU GEMMs: the step's matrix
products alone on rnn4j's backend (org.rnn4j.bench.StepProducts), the floor the rest of the step adds to.

The two are interleaved, --rounds times (default 3): each round times rnn4j (a fresh JVM, warmed up) then PyTorch,
and the table gives the median over rounds of each side's median, and the median of the rounds' ratios, so that a
busy spell on a shared machine hits both sides alike. The 1-minute load average is printed before and after.

On the CPU the script refuses to run (exit 2, one line) unless PyTorch's BLAS is an optimised one: Debian's
python3-torch uses whatever libblas.so.3 the system points at, and with the reference BLAS (package libblas3) its
matmuls are about 7x slower, which made an earlier comparison meaningless. Install libopenblas0-pthread.
--self-test checks the BLAS classification on recorded /proc/self/maps lines (no PyTorch needed).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JAR = os.environ.get("RNN4J_BENCH_JAR", os.path.join(ROOT, "bench", "target", "benchmarks.jar"))
JAVA = os.environ.get("JAVA", "java")  # the device check points it at its own runtime


def classify_blas(maps_text, config_text=""):
    """(ok, what) from the text of /proc/self/maps after a matmul, and torch.__config__.show()'s text. A mapped
    libblas.so* decides (PyTorch's BLAS calls bind to it): ok when its real path is an optimised BLAS's (OpenBLAS,
    MKL, BLIS), not when it is the reference one (Debian's .../blas/libblas.so.3), even if an optimised LAPACK is
    mapped too. Without a libblas.so*, an optimised library mapped, else PyTorch's build configuration, decides."""
    paths = set()
    for line in maps_text.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[5].startswith("/"):
            paths.add(fields[5])

    def optimised(p):
        return any(k in p.lower() for k in ("openblas", "libmkl", "blis", "accelerate"))

    blas = sorted(p for p in paths if os.path.basename(p).startswith(("libblas.so", "libcblas.so")))
    if blas:
        bad = [p for p in blas if not optimised(p)]
        return (False, bad[0]) if bad else (True, blas[0])
    fast = sorted(p for p in paths if optimised(os.path.basename(p)))
    if fast:
        return True, fast[0]
    for key in ("BLAS_INFO=mkl", "BLAS_INFO=open", "BLAS_INFO=blis", "BLAS_INFO=accelerate"):
        if key in config_text:
            return True, key
    return False, "no BLAS library mapped and " + (
        [f for f in config_text.replace(",", " ").split() if f.startswith("BLAS_INFO=")] or ["no BLAS_INFO"])[0]


def check_torch_blas(torch):
    """Exits 2 with one line when PyTorch on the CPU uses the reference BLAS; returns the library used."""
    a = torch.rand(256, 256)
    (a @ a).sum().item()
    with open("/proc/self/maps") as f:
        maps = f.read()
    ok, what = classify_blas(maps, torch.__config__.show())
    if not ok:
        print(f"torch_vs_rnn4j: PyTorch uses the reference BLAS ({what}), about 7x slower than OpenBLAS: the "
              "comparison would mislead; install libopenblas0-pthread (Debian) and rerun", file=sys.stderr)
        sys.exit(2)
    return what


def self_test():
    ref = ("7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0\n"
           "7f02-7f03 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13\n")
    opb = ("7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so\n"
           + ref.splitlines()[1] + "\n")
    lapack = "7f04-7f05 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3\n"
    debian = "7f04-7f05 r-xp 00000000 08:01 3 /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3\n"
    checks = [
        (classify_blas(ref, "BLAS_INFO=generic")[0], False, "reference libblas refused"),
        (classify_blas(ref + lapack, "BLAS_INFO=generic")[0], False, "reference libblas with OpenBLAS's LAPACK refused"),
        (classify_blas(opb, "BLAS_INFO=generic")[0], True, "OpenBLAS mapped accepted"),
        (classify_blas(debian + lapack, "BLAS_INFO=generic")[0], True, "Debian's OpenBLAS libblas.so.3 accepted"),
        (classify_blas(opb, "")[1].endswith("libopenblasp-r0.3.21.so"), True, "OpenBLAS named"),
        (classify_blas("", "  - Build settings: BLAS_INFO=mkl, X=1")[0], True, "static MKL accepted"),
        (classify_blas("", "BLAS_INFO=generic")[0], False, "nothing known refused"),
    ]
    bad = [name for got, want, name in checks if got != want]
    if bad:
        print("torch_vs_rnn4j self-test failed: " + "; ".join(bad), file=sys.stderr)
        sys.exit(1)
    print(f"torch_vs_rnn4j self-test: {len(checks)} checks passed")


def pin_blas_environment(threads):
    """Sets the environment both sides' BLAS read when it loads (before PyTorch is imported, and inherited by the
    rnn4j JVM); returns it in words. torch.set_num_threads does not reach Debian's pthread OpenBLAS, which starts one
    thread per core unless OPENBLAS_NUM_THREADS says otherwise (an earlier "1 thread" PyTorch figure had two BLAS
    threads). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which a machine's environment may set (this one pins
    OpenBLAS to Haswell's AVX2 kernels on an AVX-512 CPU, halving both libraries' GEMM), are unset for both sides,
    as gemm-vs-numpy.sh does, so that each OpenBLAS picks its kernels for the CPU as it does for its users."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    dropped = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.pop(v, None) is not None]
    return (f"OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS={threads}"
            + (f", unset {' and '.join(dropped)}" if dropped else ""))


def torch_step_time(torch, device, size, batch, steps, repeats, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(size, size).to(device)
    opt = torch.optim.SGD(lstm.parameters(), lr=1e-3)
    x = torch.rand(steps, batch, size, device=device)
    r = torch.rand(steps, batch, size, device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        h, _ = lstm(x)
        (h * r).sum().backward()
        opt.step()
        if device == "cuda":
            torch.cuda.synchronize()

    end = time.perf_counter() + 1.0
    n = 0
    while n < 2 or time.perf_counter() < end:
        step()
        n += 1
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rnn4j_step_time(backend, size, batch, steps, repeats, threads, main="LstmTiming"):
    out = subprocess.run([JAVA, f"-Drnn4j.cpu.threads={threads}", "-cp", JAR, "org.rnn4j.bench." + main,
                          backend, "float32", str(size), str(batch), str(steps), str(repeats)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().split("median_s=")[1].split()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="256:64:50,128:32:16,512:64:100")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if args.repeats < 1 or args.rounds < 1 or args.threads < 1:
        ap.error("--repeats, --rounds and --threads must be at least 1")
    blas_env = pin_blas_environment(args.threads)
    try:
        import torch
    except ImportError:
        sys.exit("torch_vs_rnn4j: PyTorch is not installed for " + sys.executable
                 + " (Debian: apt-get install python3-torch, then run with /usr/bin/python3)")
    if not os.path.isfile(JAR):
        subprocess.run(["mvn", "-B", "-q", "-DskipTests", "-pl", "bench", "-am", "package"], cwd=ROOT, check=True)
    torch.set_num_threads(args.threads)
    blas = check_torch_blas(torch) if args.device == "cpu" else "cuBLAS/cuDNN"
    backend = "cuda" if args.device == "cuda" else "cpu"
    variants = [False, True] if args.device == "cuda" else [False]
    print(f"PyTorch {torch.__version__} ({args.device}"
          + (f", cuDNN {torch.backends.cudnn.version()}" if args.device == "cuda" else "")
          + f", {torch.get_num_threads()} threads, BLAS {blas}) against rnn4j {backend}, float32; median of "
          f"{args.repeats} steps per round, {args.rounds} interleaved rounds")
    print(f"command: {os.path.basename(sys.executable)} bench/scripts/torch_vs_rnn4j.py --device {args.device} "
          f"--repeats {args.repeats} --sizes {args.sizes} --threads {args.threads} --rounds {args.rounds}")
    print("BLAS environment of both sides: " + blas_env)
    print("load average before: %.2f %.2f %.2f on %d CPUs" % (os.getloadavg() + (os.cpu_count(),)))
    print(f"{'size':>5} {'batch':>5} {'steps':>5} {'torch':>14} {'rnn4j':>11} {'ratio':>7}  {'GEMMs':>9}  "
          "ratios per round")
    for spec in args.sizes.split(","):
        size, batch, steps = (int(v) for v in spec.split(":"))
        for tf32 in variants:
            ours, theirs, products = [], [], []
            for _ in range(args.rounds):
                ours.append(rnn4j_step_time(backend, size, batch, steps, args.repeats, args.threads))
                if args.device == "cpu":  # on a GPU it would lengthen the device check's timed step
                    products.append(rnn4j_step_time(backend, size, batch, steps, args.repeats, args.threads,
                                                    "StepProducts"))
                theirs.append(torch_step_time(torch, args.device, size, batch, steps, args.repeats, tf32))
            ratios = [t / o for t, o in zip(theirs, ours)]
            label = ("TF32 on " if tf32 else "TF32 off ") if args.device == "cuda" else ""
            print(f"{size:5d} {batch:5d} {steps:5d} {label}{statistics.median(theirs) * 1e3:8.2f} ms "
                  f"{statistics.median(ours) * 1e3:8.2f} ms {statistics.median(ratios):6.2f}x  "
                  + (f"{statistics.median(products) * 1e3:6.2f} ms  " if products else f"{'-':>9}  ")
                  + " ".join(f"{r:.2f}" for r in ratios), flush=True)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()

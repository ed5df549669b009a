#!/usr/bin/env python3
"""PyTorch's torch.matmul at the GEMM benchmark's square sizes: the peer of rnn4j's GEMM paths (cuBLAS 13 on a GPU).

usage: python3 bench/scripts/torch_matmul.py [--device cuda|cpu] [--sizes 1024,4096] [--dtypes float32,float64]
                                             [--repeats 20]

Per size N and dtype: A and B (N x N) uniform in [-1, 1), C = A @ B into a preallocated C (torch.matmul(a, b,
out=c)), as GemmBench's square shapes. float32 runs with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False and
float32 matmul precision 'highest'), so it is a true float32 product like rnn4j's. After 3 calls and at least 0.5 s
of warm-up, REPEATS calls are timed one by one (on a GPU with CUDA events around each call, then synchronised; on the
CPU with perf_counter) and the median is printed, one line per case, in GemmTiming's format:

  matmul device=cuda dtype=float32 size=1024 repeats=20 median_s=1.234e-04 gflops=17400.00 rel_err=3.1e-07

rel_err is |C - C64| / |C64| (Frobenius norms) against the product of the same operands in float64: float32 lands
far under 1e-3 (TF32 would give about 3e-4), float64 near 1e-16. Exit 1 if a product is wrong (rel_err above 1e-4
in float32, 1e-12 in float64) or not finite.
"""
import argparse
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error("--sizes must be a comma-separated list of integers, got " + args.sizes)
    if any(n < 1 for n in sizes):
        ap.error("--sizes must be at least 1")
    dtypes = args.dtypes.split(",")
    if any(d not in ("float32", "float64") for d in dtypes):
        ap.error("--dtypes takes float32 and float64, got " + args.dtypes)
    try:
        import torch
    except ImportError:
        sys.exit("torch_matmul: PyTorch is not installed for " + sys.executable)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_matmul: torch.cuda.is_available() is False here")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    dev = torch.device(args.device)
    where = (torch.cuda.get_device_name(0) + ", CUDA " + str(torch.version.cuda)) if args.device == "cuda" \
        else f"{torch.get_num_threads()} threads"
    print(f"PyTorch {torch.__version__} torch.matmul on {args.device} ({where}), TF32 off, median of {args.repeats}")
    print(f"command: python3 bench/scripts/torch_matmul.py --device {args.device} --sizes {args.sizes} "
          f"--dtypes {args.dtypes} --repeats {args.repeats}")
    bad = False
    for n in sizes:
        for name in dtypes:
            dtype = getattr(torch, name)
            gen = torch.Generator(device="cpu").manual_seed(n)
            a64 = torch.rand(n, n, generator=gen, dtype=torch.float64) * 2 - 1
            b64 = torch.rand(n, n, generator=gen, dtype=torch.float64) * 2 - 1
            a = a64.to(dtype).to(dev)
            b = b64.to(dtype).to(dev)
            c = torch.full((n, n), float("nan"), dtype=dtype, device=dev)  # poisoned: every element must be written

            def sync():
                if args.device == "cuda":
                    torch.cuda.synchronize()

            calls = 0
            end = time.perf_counter() + 0.5
            while calls < 3 or time.perf_counter() < end:
                torch.matmul(a, b, out=c)
                sync()
                calls += 1
            times = []
            for _ in range(args.repeats):
                if args.device == "cuda":
                    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                    torch.matmul(a, b, out=c)
                    stop.record()
                    stop.synchronize()
                    times.append(start.elapsed_time(stop) / 1e3)
                else:
                    t0 = time.perf_counter()
                    torch.matmul(a, b, out=c)
                    times.append(time.perf_counter() - t0)
            ref = a.to(torch.float64) @ b.to(torch.float64)
            err = (torch.linalg.norm(c.to(torch.float64) - ref) / torch.linalg.norm(ref)).item()
            ok = err == err and err <= (1e-4 if name == "float32" else 1e-12)
            bad |= not ok
            median = statistics.median(times)
            print(f"matmul device={args.device} dtype={name} size={n} repeats={args.repeats} median_s={median:.3e} "
                  f"gflops={2.0 * n ** 3 / median / 1e9:.2f} rel_err={err:.1e}{'' if ok else ' WRONG'}")
            del a, b, c, ref
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

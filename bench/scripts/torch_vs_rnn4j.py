#!/usr/bin/env python3
"""PyTorch's nn.LSTM training step against rnn4j's standard cell at the same sizes, in one run, as ratios.

usage: /usr/bin/python3 bench/scripts/torch_vs_rnn4j.py [--device cpu|cuda] [--repeats N]
                                                       [--sizes SIZE:BATCH:STEPS,...] [--threads N]

The step, on both sides: forward of one LSTM layer (input size = hidden size = SIZE) over a (STEPS, BATCH, SIZE)
input from zero state, backward of the loss sum(h * R) (R fixed, random), and a plain SGD update; float32. PyTorch
(Debian's python3-torch on CPU; cuDNN on a GPU, reported with TF32 off and on separately) is timed after warm-up,
median of N, each step synchronised on a GPU; rnn4j by org.rnn4j.bench.LstmTiming (bench/target/benchmarks.jar)
on the matching backend. Both use the same number of CPU threads (--threads, default: the cores).
Prints ratio = torch time / rnn4j time (how many times faster rnn4j is).
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


def rnn4j_step_time(backend, size, batch, steps, repeats, threads):
    out = subprocess.run([JAVA, f"-Drnn4j.cpu.threads={threads}", "-cp", JAR, "org.rnn4j.bench.LstmTiming",
                          backend, "float32", str(size), str(batch), str(steps), str(repeats)],
                         check=True, capture_output=True, text=True).stdout
    return float(out.strip().split("median_s=")[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sizes", default="256:64:50,128:32:16,512:64:100")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("torch_vs_rnn4j: PyTorch is not installed for " + sys.executable
                 + " (Debian: apt-get install python3-torch, then run with /usr/bin/python3)")
    if not os.path.isfile(JAR):
        subprocess.run(["mvn", "-B", "-q", "-DskipTests", "-pl", "bench", "-am", "package"], cwd=ROOT, check=True)
    torch.set_num_threads(args.threads)
    backend = "cuda" if args.device == "cuda" else "cpu"
    variants = [False, True] if args.device == "cuda" else [False]
    print(f"PyTorch {torch.__version__} ({args.device}"
          + (f", cuDNN {torch.backends.cudnn.version()}" if args.device == "cuda" else "")
          + f", {torch.get_num_threads()} threads) against rnn4j {backend}, float32, median of {args.repeats}")
    print(f"command: {os.path.basename(sys.executable)} bench/scripts/torch_vs_rnn4j.py --device {args.device} "
          f"--repeats {args.repeats} --sizes {args.sizes} --threads {args.threads}")
    print(f"{'size':>5} {'batch':>5} {'steps':>5} {'torch':>14} {'rnn4j':>11} {'ratio':>7}")
    for spec in args.sizes.split(","):
        size, batch, steps = (int(v) for v in spec.split(":"))
        ours = rnn4j_step_time(backend, size, batch, steps, args.repeats, args.threads)
        for tf32 in variants:
            theirs = torch_step_time(torch, args.device, size, batch, steps, args.repeats, tf32)
            label = ("TF32 on " if tf32 else "TF32 off ") if args.device == "cuda" else ""
            print(f"{size:5d} {batch:5d} {steps:5d} {label}{theirs * 1e3:8.2f} ms {ours * 1e3:8.2f} ms "
                  f"{theirs / ours:6.2f}x")


if __name__ == "__main__":
    main()

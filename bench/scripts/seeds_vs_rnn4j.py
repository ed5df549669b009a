#!/usr/bin/env python3
"""The seeds' own Python scripts against rnn4j on the seeds' workloads, in one run, as ratios.

usage: python3 bench/scripts/seeds_vs_rnn4j.py [--seeds DIR] [--repeats N] [--jar JAR]

Workloads: iamtrask's RNN (10000 iterations, hidden 16) and nicodjimenez's LSTM (100 iterations, hidden 100, input
50, 4 steps), at the seeds' settings. For each, the median of N runs (default 5), the commands alternating
(seed, rnn4j float64, rnn4j float32, seed loop, then again) so that a busy spell on a shared machine hits all alike:
  - whole process: `python3 <seed script>` against `java -jar rnn4j.jar train ...` (JVM start included; both
    print their progress to a pipe);
  - training loop alone: the seed's loop timed inside Python (the RNN script's code from its '# training logic'
    line on, after running what comes before; the LSTM's example_0(), whose setup is negligible), with the seeds'
    prints going to /dev/null; against rnn4j's own timing of its training loop (its 'trained in X s' line).
The load average before and after is printed.
rnn4j runs on the CPU backend, in float64 (the seeds' arithmetic, same numbers) and float32.
Prints a table; ratio = seed time / rnn4j time (how many times faster rnn4j is).
"""
import argparse
import contextlib
import io
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def seed_loop_rnn(path):
    src = open(path).read()
    marker = src.index("# training logic")
    env = {"__name__": "seed"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(src[:marker], path, "exec"), env)
        loop = compile(src[marker:], path, "exec")
        t0 = time.perf_counter()
        exec(loop, env)
        return time.perf_counter() - t0


def seed_loop_lstm(seeds):
    sys.path.insert(0, seeds)
    try:
        import importlib
        test = importlib.import_module("test")
        importlib.reload(test)
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
            t0 = time.perf_counter()
            test.example_0()
            return time.perf_counter() - t0
    finally:
        sys.path.remove(seeds)


def wall(cmd, cwd=None):
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True).stdout
    return time.perf_counter() - t0, out


def rnn4j(jar, network, precision):
    """The plain command a user types (no --summary, which would load Jackson): its wall time, and its training
    loop's time from its 'trained in X s' line."""
    t, out = wall(["java", "-jar", jar, "train", network, "--backend", "cpu", "--precision", precision])
    loop = [l for l in out.splitlines() if l.startswith("trained in ")]
    if not loop:
        sys.exit("seeds_vs_rnn4j: no 'trained in' line from rnn4j train " + network)
    return t, float(loop[0].split()[2])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default=os.path.join(ROOT, "..", "shared", "seeds", "python3"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--jar", default=os.path.join(ROOT, "java", "cli", "target", "rnn4j.jar"))
    args = ap.parse_args()
    seeds = os.path.abspath(args.seeds)
    if not os.path.isfile(os.path.join(seeds, "iamtrask_rnn.py")):
        sys.exit(f"seeds_vs_rnn4j: no seed scripts in {seeds} (give --seeds DIR)")
    if not os.path.isfile(args.jar):
        subprocess.run([os.path.join(ROOT, "rnn4j"), "--version"], check=True, stdout=subprocess.DEVNULL)
    rows = []
    load_before = os.getloadavg()
    for network, script in (("rnn", "iamtrask_rnn.py"), ("lstm", "test.py")):
        py_whole, py_loop = [], []
        j = {p: ([], []) for p in ("float64", "float32")}
        for _ in range(args.repeats):   # alternating: a busy spell hits every command alike
            py_whole.append(wall([sys.executable, script], cwd=seeds)[0])
            for precision in ("float64", "float32"):
                w, l = rnn4j(args.jar, network, precision)
                j[precision][0].append(w)
                j[precision][1].append(l)
            py_loop.append(seed_loop_rnn(os.path.join(seeds, script)) if network == "rnn" else seed_loop_lstm(seeds))
        for precision in ("float64", "float32"):
            rows.append((network, precision, statistics.median(py_whole), statistics.median(j[precision][0]),
                         statistics.median(py_loop), statistics.median(j[precision][1])))
    import numpy
    print(f"seeds vs rnn4j, CPU, median of {args.repeats} runs; python {platform.python_version()}, "
          f"numpy {numpy.__version__}; {os.cpu_count()} cores")
    print(f"command: python3 bench/scripts/seeds_vs_rnn4j.py --repeats {args.repeats}")
    print("load average before: %.2f %.2f %.2f, after: %.2f %.2f %.2f" % (load_before + os.getloadavg()))
    print(f"{'workload':8} {'rnn4j':8} {'seed whole':>11} {'rnn4j whole':>12} {'ratio':>7}   "
          f"{'seed loop':>10} {'rnn4j loop':>11} {'ratio':>8}")
    for n, p, pw, jw, pl, jl in rows:
        print(f"{n:8} {p:8} {pw:10.3f}s {jw:11.3f}s {pw / jw:6.1f}x   {pl:9.3f}s {jl:10.4f}s {pl / jl:7.1f}x")


if __name__ == "__main__":
    main()

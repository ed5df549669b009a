#!/usr/bin/env python3
"""The character model's training, rnn4j against PyTorch, on the same model, text and steps, in one run (issue 10).

usage: /usr/bin/python3 bench/scripts/charlm_vs_torch.py [--text PATH] [--steps 30] [--layers 2] [--hidden 256]
                                                         [--embedding 64] [--seq-len 64] [--batch 32]
                                                         [--precision float32] [--threads N]

Both sides start from the same initial model (rnn4j's `--steps 0` checkpoint, loaded into PyTorch), read the same
windows (tools/charlm_data.py, the issue's pipeline), and run the same update: forward, mean cross-entropy, backward,
clip_grad_norm_(5), Adam(0.002), the state carried between windows. Each side's characters per second is T * B *
steps divided by the time spent in the updates (rnn4j: the `chars_per_second` of `--summary`, without the JVM's
start, validation or saving; PyTorch: timed the same way, from the first update, no warm-up on either side). Both
sides run on --threads threads (default: the cores): rnn4j through -Drnn4j.cpu.threads, PyTorch through
torch.set_num_threads and, before it loads, OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS, since
set_num_threads does not reach Debian's pthread OpenBLAS (which otherwise starts one thread per core).
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for both sides (an environment may pin OpenBLAS to older kernels,
as this machine's pins Haswell's on an AVX-512 CPU), as gemm-vs-numpy.sh does. Prints both and the ratio
rnn4j / PyTorch. On a loaded 2-core machine, compare with --threads 1.

PyTorch must use an optimised BLAS: Debian's python3-torch calls the system's libblas.so.3, which is the reference
BLAS (about 7x slower) unless OpenBLAS is installed (apt-get install libopenblas0-pthread). The script refuses to
compare against the reference BLAS.
"""
import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import charlm_data  # noqa: E402
import safetensors_numpy  # noqa: E402
from torch_vs_rnn4j import pin_blas_environment  # noqa: E402  (this script's directory is on sys.path)


def blas_in_use():
    """The BLAS libraries this process has mapped (after PyTorch ran a matrix product)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if "blas" in os.path.basename(path).lower() or "openblas" in path.lower() or "mkl" in path.lower():
                libs.add(os.path.realpath(path))
    return sorted(libs)


def rnn4j(threads, *args):
    cmd = shlex.split(os.environ.get("RNN4J", os.path.join(ROOT, "rnn4j"))) + [str(a) for a in args]
    env = dict(os.environ)
    env["JAVA_OPTS"] = (env.get("JAVA_OPTS", "") + f" -Drnn4j.cpu.threads={threads}").strip()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"charlm_vs_torch: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", default=os.path.join(ROOT, "README.md"))
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embedding", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--precision", default="float32", choices=["float32", "float64"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    if a.threads < 1:
        ap.error("--threads must be at least 1")
    blas_env = pin_blas_environment(a.threads)  # the same environment as torch_vs_rnn4j.py gives both sides
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        sys.exit("charlm_vs_torch: PyTorch is not installed for " + sys.executable
                 + " (Debian: apt-get install python3-torch, then run with /usr/bin/python3)")
    torch.set_num_threads(a.threads)
    torch.ones(64, 64) @ torch.ones(64, 64)
    blas = blas_in_use()
    if not any("openblas" in b.lower() or "mkl" in b.lower() for b in blas):
        sys.exit("charlm_vs_torch: PyTorch uses the reference BLAS (" + (", ".join(blas) or "none found")
                 + "), which makes it about 7x slower than a user's setup: install OpenBLAS "
                 "(apt-get install libopenblas0-pthread) and run again")
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, load average {load} ({uptime})")
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, BLAS {', '.join(blas)}")
    print(f"BLAS environment of both sides: {blas_env}; rnn4j -Drnn4j.cpu.threads={a.threads}")
    size = ["--layers", a.layers, "--hidden", a.hidden, "--embedding", a.embedding, "--seq-len", a.seq_len,
            "--batch", a.batch, "--precision", a.precision, "--backend", "cpu"]
    print(f"model: embedding {a.embedding} -> lstm {a.hidden} x {a.layers} -> linear V; seq-len {a.seq_len}, batch "
          f"{a.batch}, {a.steps} updates, Adam 0.002, clip 5, {a.precision}; text {os.path.relpath(a.text, ROOT)}")
    print(f"command: /usr/bin/python3 bench/scripts/charlm_vs_torch.py --steps {a.steps} --layers {a.layers} "
          f"--hidden {a.hidden} --embedding {a.embedding} --seq-len {a.seq_len} --batch {a.batch} "
          f"--precision {a.precision} --threads {a.threads}")

    with tempfile.TemporaryDirectory() as tmp:
        init = os.path.join(tmp, "init.safetensors")
        summary = os.path.join(tmp, "summary.json")
        rnn4j(a.threads, "train", "charlm", "--text", a.text, "--steps", 0, "--checkpoint", init, "--quiet", *size)
        rnn4j(a.threads, "train", "charlm", "--text", a.text, "--steps", a.steps, "--checkpoint",
              os.path.join(tmp, "done.safetensors"), "--summary", summary, "--quiet", *size)
        with open(summary) as f:
            ours = json.load(f)
        tensors, meta = safetensors_numpy.load(init)

    # PyTorch: the same model from the same initial values, the same windows and update
    settings = json.loads(meta["settings"])
    vocabulary = json.loads(meta["vocabulary"])
    dtype = torch.float32 if a.precision == "float32" else torch.float64
    v = len(vocabulary)

    class CharModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(v, a.embedding)
            self.lstm = torch.nn.LSTM(a.embedding, a.hidden, num_layers=a.layers)
            self.head = torch.nn.Linear(a.hidden, v)

    model = CharModel().to(dtype)
    model.load_state_dict({k: torch.from_numpy(tensors[k].copy()) for k in model.state_dict()})
    codes, _, _, _ = charlm_data.read_text(a.text)
    index = {c: i for i, c in enumerate(vocabulary)}
    tokens = [index[c] for c in codes]
    n = len(tokens)
    n_val = math.floor(n * settings["val_fraction"])
    data = charlm_data.streams(tokens[:n - n_val], a.batch, a.seq_len)
    T, B, W = a.seq_len, a.batch, data["W"]
    windows = [(torch.tensor(w["inputs"]).reshape(T, B), torch.tensor(w["targets"])) for w in data["windows"]]
    initial = {k: t.detach().clone() for k, t in model.state_dict().items()}

    def torch_run():
        """chars/s and final loss of the PyTorch run from the initial values."""
        model.load_state_dict(initial)
        params = list(model.parameters())
        opt = torch.optim.Adam(params, lr=settings["lr"])
        state, spent, loss = None, 0.0, None
        for step in range(a.steps):
            x, y = windows[step % W]
            t0 = time.perf_counter()
            if step % W == 0:
                state = None
            out, (h, c) = model.lstm(model.embedding(x), state)
            state = (h.detach(), c.detach())
            loss = F.cross_entropy(model.head(out).reshape(T * B, v), y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, settings["clip"])
            opt.step()
            loss = loss.item()
            spent += time.perf_counter() - t0
        return T * B * a.steps / spent, loss

    theirs, their_loss = torch_run()
    mine = ours["chars_per_second"]
    print(f"{'':22} {'chars/s':>10} {'s/update':>9} {'final loss':>11}")
    print(f"{'PyTorch':22} {theirs:10,.0f} {T * B / theirs:9.4f} {their_loss:11.4f}")
    print(f"{'rnn4j, CPU backend':22} {mine:10,.0f} {T * B / mine:9.4f} {ours['final_loss']:11.4f}  "
          f"({ours['backend']})")
    print(f"ratio rnn4j / PyTorch: {mine / theirs:.2f}x (target: at least 1.5x; "
          f"{'met' if mine / theirs >= 1.5 else 'not met'})")


if __name__ == "__main__":
    main()

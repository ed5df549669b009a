#!/usr/bin/env python3
"""rnn4j's character model and PyTorch's, side by side (issue 10): PyTorch reads what rnn4j writes, and the other way
round. Needs PyTorch and numpy (Debian: apt-get install python3-torch; run with /usr/bin/python3); safetensors files
are read and written with numpy (tools/safetensors_numpy.py), as Debian's PyTorch has no safetensors package.

    charlm_torch.py check CHECKPOINT --prime TEXT [--precision float32|float64]
        loads an rnn4j checkpoint into nn.Embedding -> nn.LSTM -> nn.Linear and checks that its logits after each
        character of the prime equal rnn4j's (`rnn4j sample --dump-logits`), within 1e-5*|ref| + 1e-6 in float32 and
        1e-12*|ref| + 1e-14 in float64 (ref: PyTorch's)
    charlm_torch.py write OUT --text PATH [--layers 2] [--hidden 16] [--embedding 8] [--precision float32] [--seed 0]
        writes a PyTorch-initialised model of the text's vocabulary as an rnn4j checkpoint (step 0, plain SGD)
    charlm_torch.py train-check [--text PATH] [--steps 40]
        trains the same model from the same `--steps 0` checkpoint in rnn4j and in PyTorch (float64, the issue's data
        pipeline, TBPTT, clip_grad_norm_, Adam) and compares every loss and the final parameters
    charlm_torch.py roundtrip [--text PATH]
        all three on a small model: rnn4j -> PyTorch in both precisions, PyTorch -> rnn4j (sample, logits), training
    charlm_torch.py fixture OUTDIR
        writes the test fixture (a PyTorch-written checkpoint in each precision and PyTorch's logits on a prime) that
        keeps the PyTorch -> rnn4j direction checked without PyTorch (CharLmTorchFixtureTest)

rnn4j is run through the launcher ./rnn4j (or the command in $RNN4J), on the CPU.
"""
import argparse
import hashlib
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import safetensors_numpy  # noqa: E402
import charlm_data  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("charlm_torch: PyTorch is not installed for " + sys.executable
             + " (Debian: apt-get install python3-torch, then run with /usr/bin/python3)")

TOLERANCE = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-14)}
DTYPE = {"float32": torch.float32, "float64": torch.float64}


def rnn4j(*args, capture=True):
    cmd = shlex.split(os.environ.get("RNN4J", os.path.join(ROOT, "rnn4j"))) + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=capture, text=True)
    if r.returncode != 0:
        sys.exit(f"charlm_torch: {' '.join(cmd)} exited {r.returncode}:\n{r.stderr if capture else ''}")
    return r.stdout if capture else ""


class CharModel(torch.nn.Module):
    """The issue's model, with PyTorch's names: embedding, lstm, head."""

    def __init__(self, vocab, embedding, hidden, layers, dropout=0.0):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, embedding)
        self.lstm = torch.nn.LSTM(embedding, hidden, num_layers=layers, dropout=dropout)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embedding(x), state)
        return self.head(out), state


def load(path):
    """(model, settings, vocabulary, tensors, metadata) of an rnn4j checkpoint."""
    tensors, meta = safetensors_numpy.load(path)
    if meta.get("format") != "rnn4j-charlm":
        sys.exit(f"charlm_torch: {path} is not an rnn4j character-model checkpoint")
    settings = json.loads(meta["settings"])
    vocabulary = json.loads(meta["vocabulary"])
    model = CharModel(len(vocabulary), settings["embedding"], settings["hidden"], settings["layers"],
                      settings["dropout"]).to(DTYPE[settings["precision"]])
    state = {name: torch.from_numpy(np.array(tensors[name])) for name in model.state_dict()}
    model.load_state_dict(state, strict=True)
    return model, settings, vocabulary, tensors, meta


def torch_logits(model, tokens, dtype):
    model = model.to(dtype).eval()
    with torch.no_grad():
        logits, _ = model(torch.tensor(tokens, dtype=torch.long).reshape(-1, 1))
    return logits.reshape(len(tokens), -1).numpy().astype(np.float64)


def compare(name, got, want, precision, what="logits"):
    rtol, atol = TOLERANCE[precision]
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        sys.exit(f"charlm_torch: {name}: shapes differ: {got.shape} vs {want.shape}")
    excess = np.abs(got - want) - (rtol * np.abs(want) + atol)
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    ok = bool((excess <= 0).all())
    rel = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {got.size} {what}, largest |rnn4j - torch| = "
          f"{float(np.max(np.abs(got - want))):.3e} (relative {rel:.3e}; allowed {rtol:g}*|ref| + {atol:g})")
    if not ok:
        print(f"     worst at {worst}: rnn4j {got[worst]!r}, torch {want[worst]!r}")
    return ok


def check(checkpoint, prime, precision=None):
    model, settings, vocabulary, _, _ = load(checkpoint)
    precision = precision or settings["precision"]
    index = {c: i for i, c in enumerate(vocabulary)}
    tokens = [index[ord(c)] for c in prime]
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "logits.json")
        rnn4j("sample", "--checkpoint", checkpoint, "--prime", prime, "--length", "0", "--backend", "cpu",
              "--precision", precision, "--dump-logits", dump)
        with open(dump) as f:
            got = json.load(f)
    if got["tokens"] != tokens:
        sys.exit("charlm_torch: rnn4j encoded the prime differently")
    want = torch_logits(model, tokens, DTYPE[precision])
    return compare(f"{os.path.basename(checkpoint)} ({settings['precision']} weights) in {precision}",
                   got["logits"], want, precision)


def write(out, text_path, layers, hidden, embedding, precision, seed, batch=4):
    """A PyTorch-initialised model as an rnn4j checkpoint at step 0 (plain SGD: no optimizer tensors)."""
    codes, sha, _, _ = charlm_data.read_text(text_path)
    vocabulary = sorted(set(codes))
    torch.manual_seed(seed)
    model = CharModel(len(vocabulary), embedding, hidden, layers).to(DTYPE[precision])
    np_dtype = "<f4" if precision == "float32" else "<f8"
    tensors = {name: t.detach().numpy().astype(np_dtype) for name, t in model.state_dict().items()}
    zeros = np.zeros((layers, batch, hidden), dtype=np_dtype)
    tensors["state.h"], tensors["state.c"] = zeros, zeros.copy()
    settings = {"layers": layers, "hidden": hidden, "embedding": embedding, "seq_len": 16, "batch": batch,
                "optimizer": "sgd", "lr": 0.1, "clip": 5.0, "dropout": 0.0, "val_fraction": 0.05, "seed": seed,
                "precision": precision}
    meta = {"format": "rnn4j-charlm", "format_version": "1", "vocabulary": json.dumps(vocabulary),
            "settings": json.dumps(settings), "text_sha256": sha, "step": "0", "optimizer_steps": "0",
            "generator": json.dumps({"dropout_seed": 0, "dropout_offset": 0})}
    safetensors_numpy.save(out, tensors, meta)
    return model, vocabulary


def train_torch(checkpoint, text_path, steps):
    """Trains from an rnn4j --steps 0 checkpoint exactly as the issue says; returns (model, losses)."""
    model, s, vocabulary, _, _ = load(checkpoint)
    codes, _, _, _ = charlm_data.read_text(text_path)
    index = {c: i for i, c in enumerate(vocabulary)}
    tokens = [index[c] for c in codes]
    n = len(tokens)
    n_val = math.floor(n * s["val_fraction"])
    data = charlm_data.streams(tokens[:n - n_val], s["batch"], s["seq_len"])
    T, B, W = s["seq_len"], s["batch"], data["W"]
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=s["lr"]) if s["optimizer"] == "adam" else torch.optim.SGD(params, lr=s["lr"])
    model.train()
    state, losses = None, []
    for step in range(steps):
        w = step % W
        x = torch.tensor(data["windows"][w]["inputs"], dtype=torch.long).reshape(T, B)
        y = torch.tensor(data["windows"][w]["targets"], dtype=torch.long).reshape(T * B)
        if w == 0:
            state = None
        logits, (h, c) = model(x, state)
        state = (h.detach(), c.detach())
        loss = F.cross_entropy(logits.reshape(T * B, -1), y)
        opt.zero_grad()
        loss.backward()
        if s["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(params, s["clip"])
        opt.step()
        losses.append(loss.item())
    return model, losses


def train_check(text_path, steps):
    """rnn4j's training == PyTorch's from the same initial checkpoint, float64, on the text's first 800 characters
    (so that the run passes over the data more than once: the state starts from zero again at window 0)."""
    size = ["--layers", "2", "--hidden", "12", "--embedding", "6", "--seq-len", "10", "--batch", "4", "--lr", "0.01",
            "--clip", "0.5", "--val-every", "1000", "--backend", "cpu", "--precision", "float64", "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        codes, _, _, _ = charlm_data.read_text(text_path)
        text_path = os.path.join(tmp, "text.txt")
        with open(text_path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(map(chr, codes[:800])))
        init, done, trace = (os.path.join(tmp, f) for f in ("init.safetensors", "done.safetensors", "t.jsonl"))
        rnn4j("train", "charlm", "--text", text_path, "--steps", "0", "--checkpoint", init, *size)
        rnn4j("train", "charlm", "--text", text_path, "--steps", steps, "--checkpoint", done, "--trace", trace, *size)
        model, losses = train_torch(init, text_path, steps)
        with open(trace) as f:
            got_losses = [json.loads(line)["loss"] for line in f]
        trained, _ = safetensors_numpy.load(done)
    ok = compare(f"training losses, {steps} updates", got_losses, losses, "float64", "losses")
    rtol, atol = 1e-9, 1e-11  # the parameters after many updates: summation order compounds
    worst = 0.0
    for name, t in model.state_dict().items():
        a, b = np.asarray(trained[name], dtype=np.float64), t.detach().numpy()
        worst = max(worst, float(np.max(np.abs(a - b) - (rtol * np.abs(b) + atol))))
        if not np.allclose(a, b, rtol=rtol, atol=atol):
            print(f"FAIL parameter {name}: largest difference {float(np.max(np.abs(a - b))):.3e}")
            ok = False
    print(f"{'ok  ' if ok else 'FAIL'} parameters after {steps} updates within {rtol:g}*|ref| + {atol:g} "
          f"(largest excess {worst:.3e})")
    return ok


def roundtrip(text_path):
    ok = True
    size = ["--layers", "2", "--hidden", "24", "--embedding", "8", "--seq-len", "16", "--batch", "4",
            "--val-every", "1000", "--backend", "cpu", "--quiet"]
    prime = "The quick brown fox"
    with tempfile.TemporaryDirectory() as tmp:
        print("rnn4j -> PyTorch: checkpoints written by `rnn4j train charlm --steps 20`")
        for precision in ("float32", "float64"):
            ck = os.path.join(tmp, f"rnn4j-{precision}.safetensors")
            rnn4j("train", "charlm", "--text", text_path, "--steps", "20", "--precision", precision,
                  "--checkpoint", ck, *size)
            ok &= check(ck, prime)
        print("PyTorch -> rnn4j: checkpoints written from a PyTorch model")
        for precision in ("float32", "float64"):
            ck = os.path.join(tmp, f"torch-{precision}.safetensors")
            write(ck, text_path, 2, 16, 8, precision, seed=1)
            ok &= check(ck, prime)
            sample = rnn4j("sample", "--checkpoint", ck, "--length", "60", "--prime", "The", "--seed", "1",
                           "--backend", "cpu")
            sampled = sample.startswith("The") and len(sample.rstrip("\n")) == 63
            ok &= sampled
            print(f"{'ok  ' if sampled else 'FAIL'} rnn4j samples from the PyTorch {precision} checkpoint: "
                  f"{sample.rstrip()!r}")
    print("training: rnn4j and PyTorch from the same --steps 0 checkpoint")
    ok &= train_check(text_path, 40)
    return ok


def fixture(outdir):
    """The committed fixture: tiny PyTorch-written checkpoints and PyTorch's logits on a prime."""
    os.makedirs(outdir, exist_ok=True)
    text = os.path.join(outdir, "torch_charlm_text.txt")
    if not os.path.exists(text):
        with open(text, "w", encoding="utf-8") as f:
            f.write("A tiny text for a tiny model: caf\u00e9, na\u00efve, \u00fcber \u2014 and a newline.\n")
    prime = "a caf\u00e9 \u2014 tiny"
    cases = []
    for precision in ("float32", "float64"):
        name = f"torch_charlm_{precision}.safetensors"
        model, vocabulary = write(os.path.join(outdir, name), text, 2, 10, 6, precision, seed=3, batch=2)
        index = {c: i for i, c in enumerate(vocabulary)}
        tokens = [index[ord(c)] for c in prime]
        logits = torch_logits(model, tokens, DTYPE[precision])
        cases.append({"file": name, "precision": precision, "tokens": tokens, "logits": logits.tolist()})
    with open(os.path.join(outdir, "torch_charlm_logits.json"), "w", encoding="utf-8") as f:
        json.dump({"made_by": f"tools/charlm_torch.py fixture (PyTorch {torch.__version__})", "prime": prime,
                   "cases": cases}, f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote the fixture to {outdir}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check")
    c.add_argument("checkpoint")
    c.add_argument("--prime", required=True)
    c.add_argument("--precision", choices=["float32", "float64"])
    w = sub.add_parser("write")
    w.add_argument("out")
    w.add_argument("--text", required=True)
    w.add_argument("--layers", type=int, default=2)
    w.add_argument("--hidden", type=int, default=16)
    w.add_argument("--embedding", type=int, default=8)
    w.add_argument("--precision", choices=["float32", "float64"], default="float32")
    w.add_argument("--seed", type=int, default=0)
    t = sub.add_parser("train-check")
    t.add_argument("--text", default=os.path.join(ROOT, "README.md"))
    t.add_argument("--steps", type=int, default=40)
    r = sub.add_parser("roundtrip")
    r.add_argument("--text", default=os.path.join(ROOT, "README.md"))
    f = sub.add_parser("fixture")
    f.add_argument("outdir")
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    if a.command == "check":
        ok = check(a.checkpoint, a.prime, a.precision)
    elif a.command == "write":
        write(a.out, a.text, a.layers, a.hidden, a.embedding, a.precision, a.seed)
        print(f"wrote {a.out}")
        ok = True
    elif a.command == "train-check":
        ok = train_check(a.text, a.steps)
    elif a.command == "roundtrip":
        ok = roundtrip(a.text)
    else:
        fixture(a.outdir)
        ok = True
    if not ok:
        sys.exit("charlm_torch: FAILED")
    if a.command in ("check", "train-check", "roundtrip"):
        print("charlm_torch: passed")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes PyTorch reference values in float64 for the library layer (org.rnn4j.nn) and its losses and optimizers.

Regenerate (from the repository root, with Debian's python3-torch, i.e. /usr/bin/python3):

    /usr/bin/python3 java/core/src/test/resources/org/rnn4j/torch/make_torch_nn_fixtures.py

It writes three files beside itself (running it twice gives the same bytes):

  lstm_stack_fixtures.json  nn.LSTM(X, H, num_layers=L) (biases, batch_first=False, dropout 0) with given random
                            h0, c0 (L, B, H): parameters (PyTorch's names), inputs, outputs (T, B, H), hN, cN, and
                            after L = sum(output*R) + sum(hN*RH) + sum(cN*RC).backward() with random R, RH, RC the
                            gradients of the input, h0, c0 and every parameter. 1-, 2- and 3-layer cases.
  nn_fixtures.json          nn.Linear on a (T, B, in) input, nn.Embedding with repeated indices, F.cross_entropy
                            (mean) with extreme logits (+-50), F.mse_loss (mean), and clip_grad_norm_ (one case that
                            clips, one that does not): forward values and gradients.
  train_fixtures.json       a whole training run, Embedding(V, E) -> 2-layer LSTM(E, H) -> Linear(H, V), cross-entropy
                            (mean over T*B positions), clip_grad_norm_, Adam(lr=0.01), 10 steps from zero state each
                            step: the initial parameters (state_dict names), every parameter after every step, the
                            loss, the total norm and whether it clipped; and Adam with weight_decay > 0 and SGD with
                            momentum on given gradients, the parameters after every step.

Every tensor is {"shape": [...], "data": [...]} with the data flattened row-major (time-major sequences: (T, B, F)).
Floats are written with Python's repr (shortest round-trip form), so they parse back to the same double in Java.
Random values come from torch.manual_seed(SEED + k) per case, uniform in [-1, 1) unless said otherwise.
"""
import json
import os

import torch
import torch.nn.functional as F

SEED = 20240901
HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = "java/core/src/test/resources/org/rnn4j/torch/make_torch_nn_fixtures.py"


def tensor(t):
    t = t.detach().contiguous()
    data = t.reshape(-1).tolist()
    if t.dtype.is_floating_point:
        data = [float(v) for v in data]
    else:
        data = [int(v) for v in data]
    return {"shape": list(t.shape), "data": data}


def uniform(*shape):
    return torch.rand(*shape, dtype=torch.float64) * 2 - 1


def named_tensors(pairs):
    return {name: tensor(t) for name, t in pairs}


# ---------------------------------------------------------------------------------------------------- nn.LSTM stack

LSTM_CASES = [  # (X, H, L, B, T)
    (3, 5, 1, 2, 4),
    (4, 3, 2, 3, 5),
    (2, 6, 3, 2, 3),
    (5, 7, 2, 1, 1),
    (1, 1, 3, 1, 2),
]


def lstm_case(k, x_size, hidden, layers, batch, steps):
    torch.manual_seed(SEED + k)
    lstm = torch.nn.LSTM(x_size, hidden, num_layers=layers).double()  # U(-1/sqrt(H), 1/sqrt(H)) for every tensor
    x = uniform(steps, batch, x_size).requires_grad_()
    h0 = uniform(layers, batch, hidden).requires_grad_()
    c0 = uniform(layers, batch, hidden).requires_grad_()
    r = uniform(steps, batch, hidden)
    rh = uniform(layers, batch, hidden)
    rc = uniform(layers, batch, hidden)
    out, (hn, cn) = lstm(x, (h0, c0))
    loss = (out * r).sum() + (hn * rh).sum() + (cn * rc).sum()
    loss.backward()
    named = list(lstm.named_parameters())
    return {
        "inputSize": x_size, "hidden": hidden, "numLayers": layers, "batch": batch, "steps": steps,
        "params": named_tensors((n, p) for n, p in named),
        "inputs": tensor(x), "h0": tensor(h0), "c0": tensor(c0),
        "outputGrads": tensor(r), "hNGrads": tensor(rh), "cNGrads": tensor(rc),
        "outputs": tensor(out), "hN": tensor(hn), "cN": tensor(cn), "loss": float(loss),
        "grads": named_tensors((n, p.grad) for n, p in named),
        "inputGrads": tensor(x.grad), "h0Grads": tensor(h0.grad), "c0Grads": tensor(c0.grad),
    }


def lstm_doc():
    return {
        "generator": GENERATOR, "torch_version": torch.__version__, "dtype": "float64",
        "loss": "sum(output * outputGrads) + sum(hN * hNGrads) + sum(cN * cNGrads)",
        "cases": [lstm_case(k, *c) for k, c in enumerate(LSTM_CASES)],
    }


# ------------------------------------------------------------------------------- Linear, Embedding, losses, clipping

def linear_case(k, steps, batch, n_in, n_out):
    torch.manual_seed(SEED + 100 + k)
    lin = torch.nn.Linear(n_in, n_out).double()  # PyTorch's default initialisation
    x = uniform(steps, batch, n_in).requires_grad_()
    r = uniform(steps, batch, n_out)
    out = lin(x)
    (out * r).sum().backward()
    return {
        "steps": steps, "batch": batch, "inFeatures": n_in, "outFeatures": n_out,
        "params": named_tensors(lin.named_parameters()), "inputs": tensor(x), "outputGrads": tensor(r),
        "outputs": tensor(out), "grads": named_tensors((n, p.grad) for n, p in lin.named_parameters()),
        "inputGrads": tensor(x.grad),
    }


def embedding_case(k, vocab, dim, steps, batch):
    torch.manual_seed(SEED + 200 + k)
    emb = torch.nn.Embedding(vocab, dim).double()  # N(0, 1)
    idx = torch.randint(0, vocab, (steps, batch))
    idx[0, 0] = idx[steps - 1, batch - 1] = 1  # a repeated index at least once
    r = uniform(steps, batch, dim)
    out = emb(idx)
    (out * r).sum().backward()
    return {
        "vocab": vocab, "dim": dim, "steps": steps, "batch": batch,
        "params": named_tensors(emb.named_parameters()), "indices": tensor(idx), "outputGrads": tensor(r),
        "outputs": tensor(out), "grads": named_tensors((n, p.grad) for n, p in emb.named_parameters()),
    }


def cross_entropy_case(k, rows, classes, scale, extreme):
    torch.manual_seed(SEED + 300 + k)
    logits = uniform(rows, classes) * scale
    targets = torch.randint(0, classes, (rows,))
    if extreme:  # rows dominated by +-50: log-sum-exp must not overflow or lose the small terms
        logits[0, :] = -50.0
        logits[0, targets[0]] = 50.0                    # confident and right: loss ~ 0
        logits[1, :] = 50.0
        logits[1, targets[1]] = -50.0                   # confident and wrong: loss ~ 100
        logits[2, :] = 50.0                             # all equal and huge: loss = log(C)
        logits[3, (int(targets[3]) + 1) % classes] = 50.0
        logits[3, targets[3]] = -50.0
    logits.requires_grad_()
    loss = F.cross_entropy(logits, targets)  # reduction="mean"
    loss.backward()
    return {
        "rows": rows, "classes": classes, "reduction": "mean",
        "logits": tensor(logits), "targets": tensor(targets), "loss": float(loss), "logitGrads": tensor(logits.grad),
    }


def mse_case(k, rows, cols):
    torch.manual_seed(SEED + 400 + k)
    pred = uniform(rows, cols).requires_grad_()
    target = uniform(rows, cols)
    loss = F.mse_loss(pred, target)  # reduction="mean"
    loss.backward()
    return {"rows": rows, "cols": cols, "reduction": "mean", "predictions": tensor(pred), "targets": tensor(target),
            "loss": float(loss), "predictionGrads": tensor(pred.grad)}


def clip_case(k, shapes, max_norm):
    torch.manual_seed(SEED + 500 + k)
    params = [torch.zeros(*s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p in params:
        p.grad = uniform(*p.shape)
    before = [tensor(p.grad) for p in params]
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)  # norm_type 2; grads *= min(1, max_norm/(total+1e-6))
    return {
        "maxNorm": max_norm, "normType": 2.0, "totalNorm": float(total),
        "clips": bool(float(total) > max_norm), "clipCoef": float(max_norm / (float(total) + 1e-6)),
        "grads": before, "clippedGrads": [tensor(p.grad) for p in params],
    }


def nn_doc():
    return {
        "generator": GENERATOR, "torch_version": torch.__version__, "dtype": "float64",
        "linear": [linear_case(0, 4, 3, 5, 3), linear_case(1, 1, 1, 1, 1), linear_case(2, 3, 2, 7, 6)],
        "embedding": [embedding_case(0, 7, 4, 5, 3), embedding_case(1, 3, 1, 4, 2)],
        "crossEntropy": [cross_entropy_case(0, 7, 5, 3.0, False), cross_entropy_case(1, 6, 4, 2.0, True),
                         cross_entropy_case(2, 1, 1, 1.0, False), cross_entropy_case(3, 18, 11, 5.0, False)],
        "mse": [mse_case(0, 4, 3), mse_case(1, 1, 1)],
        "clipGradNorm": [clip_case(0, [(3, 4), (5,), (2, 2)], 1.0), clip_case(1, [(3, 4), (5,), (2, 2)], 100.0)],
    }


# ------------------------------------------------------------------------------------------------- training runs

class Model(torch.nn.Module):
    def __init__(self, vocab, emb, hidden, layers):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, emb)
        self.lstm = torch.nn.LSTM(emb, hidden, num_layers=layers)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, tokens):  # (T, B) -> (T, B, V), zero initial state
        out, _ = self.lstm(self.embedding(tokens))
        return self.head(out)


TRAIN = {"vocab": 11, "embedding": 5, "hidden": 7, "numLayers": 2, "steps": 6, "batch": 3, "iterations": 10,
         "lr": 0.01, "maxNorm": 0.25}  # norms fall from 0.287 to 0.236: clips on steps 1-6 only


def train_run():
    cfg = TRAIN
    torch.manual_seed(SEED + 600)
    model = Model(cfg["vocab"], cfg["embedding"], cfg["hidden"], cfg["numLayers"]).double()
    inputs = torch.randint(0, cfg["vocab"], (cfg["steps"], cfg["batch"]))
    targets = torch.randint(0, cfg["vocab"], (cfg["steps"], cfg["batch"]))
    initial = named_tensors(model.state_dict().items())
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])  # betas (0.9, 0.999), eps 1e-8, no weight decay
    records = []
    for _ in range(cfg["iterations"]):
        opt.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, cfg["vocab"]), targets.reshape(-1))
        loss.backward()
        total = float(torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["maxNorm"]))
        opt.step()
        records.append({"loss": float(loss), "totalNorm": total, "clipped": total > cfg["maxNorm"],
                        "params": named_tensors(model.state_dict().items())})
    clipped = [r["clipped"] for r in records]
    assert any(clipped) and not all(clipped), clipped  # the run must exercise both branches
    return dict(cfg, loss="cross_entropy(mean over T*B) ; clip_grad_norm_(all params, maxNorm) ; Adam.step()",
                inputs=tensor(inputs), targets=tensor(targets), initialParams=initial, records=records)


def optimizer_run(k, make, steps):
    torch.manual_seed(SEED + 700 + k)
    params = [uniform(3, 2).requires_grad_(), uniform(4).requires_grad_()]
    initial = [tensor(p) for p in params]
    opt = make(params)
    grads, after = [], []
    for _ in range(steps):
        step_grads = [uniform(*p.shape) for p in params]
        for p, g in zip(params, step_grads):
            p.grad = g.clone()
        opt.step()
        grads.append([tensor(g) for g in step_grads])
        after.append([tensor(p) for p in params])
    return {"initialParams": initial, "grads": grads, "params": after}


def train_doc():
    adam = dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    sgd = dict(lr=0.1, momentum=0.9)
    return {
        "generator": GENERATOR, "torch_version": torch.__version__, "dtype": "float64",
        "train": train_run(),
        "adamWeightDecay": dict(optimizer_run(0, lambda p: torch.optim.Adam(p, **adam), 4),
                                lr=adam["lr"], beta1=adam["betas"][0], beta2=adam["betas"][1], eps=adam["eps"],
                                weightDecay=adam["weight_decay"]),
        "sgdMomentum": dict(optimizer_run(1, lambda p: torch.optim.SGD(p, **sgd), 4),
                            lr=sgd["lr"], momentum=sgd["momentum"], dampening=0.0, nesterov=False, weightDecay=0.0),
    }


def write(name, doc):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


def main():
    torch.set_default_dtype(torch.float64)
    write("lstm_stack_fixtures.json", lstm_doc())
    write("nn_fixtures.json", nn_doc())
    write("train_fixtures.json", train_doc())
    print("torch", torch.__version__)


if __name__ == "__main__":
    main()

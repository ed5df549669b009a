#!/usr/bin/env python3
"""Writes lstm_fixtures.json: PyTorch nn.LSTM forward and backward in float64, for LstmLayerTorchTest.

Regenerate (from the repository root, with Debian's python3-torch, i.e. /usr/bin/python3):

    /usr/bin/python3 java/core/src/test/resources/org/rnn4j/torch/make_torch_fixtures.py

For each case (X, H, B, T): nn.LSTM(X, H) (one layer, biases, batch_first=False) in float64 with its parameters
drawn uniform in [-k, k) with k = 1/sqrt(H) (PyTorch's own initialisation, from torch.manual_seed(seed)), random
inputs x (T, B, X) in [-1, 1), h0 = c0 = 0, a random upstream gradient R (T, B, H) in [-1, 1), the loss
L = sum(output * R), and L.backward(). Recorded: the sizes, every parameter and its gradient (PyTorch's names,
flattened row-major), the inputs, R and the outputs (T, B, H). Floats are written with Python's repr (shortest
round-trip form), so they parse back to the same double in Java.
"""
import json
import os

import torch

CASES = [  # (X, H, B, T)
    (1, 1, 1, 1),
    (3, 5, 2, 4),
    (7, 4, 3, 6),
    (10, 16, 5, 3),
    (2, 33, 1, 9),
]
SEED = 20240611
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lstm_fixtures.json")
PARAMS = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]


def flat(t):
    return [float(v) for v in t.detach().contiguous().reshape(-1).tolist()]


def case(index, x_size, hidden, batch, steps):
    torch.manual_seed(SEED + index)
    lstm = torch.nn.LSTM(x_size, hidden).double()  # reset_parameters: U(-1/sqrt(H), 1/sqrt(H)) for every tensor
    x = (torch.rand(steps, batch, x_size, dtype=torch.float64) * 2 - 1)
    r = (torch.rand(steps, batch, hidden, dtype=torch.float64) * 2 - 1)
    zeros = torch.zeros(1, batch, hidden, dtype=torch.float64)
    out, _ = lstm(x, (zeros, zeros))
    loss = (out * r).sum()
    loss.backward()
    named = dict(lstm.named_parameters())
    assert list(named) == PARAMS, list(named)
    return {
        "inputSize": x_size,
        "hidden": hidden,
        "batch": batch,
        "steps": steps,
        "params": {name: flat(named[name]) for name in PARAMS},
        "inputs": flat(x),
        "outputGrads": flat(r),
        "outputs": flat(out),
        "grads": {name: flat(named[name].grad) for name in PARAMS},
    }


def main():
    torch.set_default_dtype(torch.float64)
    doc = {
        "generator": "java/core/src/test/resources/org/rnn4j/torch/make_torch_fixtures.py",
        "torch_version": torch.__version__,
        "dtype": "float64",
        "loss": "sum(output * outputGrads)",
        "cases": [case(i, *c) for i, c in enumerate(CASES)],
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, "with torch", torch.__version__)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes numpy_random.json: expected numpy outputs for org.rnn4j.rng.NumpyRandom.

Regenerate (from the repository root):

    python3 java/core/src/test/resources/org/rnn4j/rng/make_numpy_random.py

The file is read by NumpyRandomTest, which compares every value exactly (uint32s as integers,
doubles bit for bit). Floats are written with Python's repr (shortest round-trip form), so they
parse back to the same double in Java.

Cases:
  raw        - per seed: the first 1000 raw 32-bit MT19937 outputs (MT19937._legacy_seeding(seed),
               random_raw) and the first 1000 RandomState(seed).random_sample() values;
  sequences  - per seed: np.random.seed(seed) then the global np.random functions in the order
               listed, mirroring how the seed scripts use them (rand, random, random_sample, randint);
  reseed     - np.random.seed(a), some draws, np.random.seed(b), more draws.
The script cross-checks, with asserts, that RandomState's random_sample and randint agree with
the formulas NumpyRandom implements, applied to the raw outputs.
"""
import json
import os
import re

import numpy as np

N_RAW = 1000
SEEDS = [0, 1, 42, 123456789, 4294967295]
SEQUENCE_SEEDS = [0, 42, 4294967295]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "numpy_random.json")


class RawStream:
    """Replays raw 32-bit outputs and applies NumpyRandom's formulas to them."""

    def __init__(self, seed, n):
        bg = np.random.MT19937()
        bg._legacy_seeding(seed)
        self.raw = [int(x) for x in bg.random_raw(n)]
        self.i = 0

    def next32(self):
        v = self.raw[self.i]
        self.i += 1
        return v

    def random_sample(self):
        a = self.next32() >> 5
        b = self.next32() >> 6
        return (a * 67108864.0 + b) / 9007199254740992.0

    def randint(self, high):
        rng = high - 1
        if rng == 0:
            return 0
        mask = rng
        for s in (1, 2, 4, 8, 16):
            mask |= mask >> s
        while True:
            v = self.next32() & mask
            if v <= rng:
                return v


def raw_case(seed):
    bg = np.random.MT19937()
    bg._legacy_seeding(seed)
    raw = [int(x) for x in bg.random_raw(N_RAW)]
    assert all(0 <= x < 2**32 for x in raw)
    samples = [float(x) for x in np.random.RandomState(seed).random_sample(N_RAW)]
    check = RawStream(seed, 2 * N_RAW)
    assert check.raw[:N_RAW] == raw
    assert [check.random_sample() for _ in range(N_RAW)] == samples, seed
    return {"seed": seed, "uint32": raw, "random_sample": samples}


# (call shown in the JSON, op, high or shape, repeat, the numpy call itself)
SEQUENCE = [
    ("np.random.rand(5)", "random_sample", [5], 1, lambda: np.random.rand(5)),
    ("np.random.randint(128)", "randint", 128, 10, lambda: np.random.randint(128)),
    ("np.random.random((3, 4))", "random_sample", [3, 4], 1, lambda: np.random.random((3, 4))),
    ("np.random.randint(100)", "randint", 100, 50, lambda: np.random.randint(100)),
    ("np.random.randint(1000)", "randint", 1000, 50, lambda: np.random.randint(1000)),
    ("np.random.randint(1)", "randint", 1, 3, lambda: np.random.randint(1)),
    ("np.random.random_sample()", "random_sample", [], 3, lambda: np.random.random_sample()),
    ("np.random.randint(3)", "randint", 3, 20, lambda: np.random.randint(3)),
    ("np.random.randint(2)", "randint", 2, 10, lambda: np.random.randint(2)),
    ("np.random.randint(2**31 + 1)", "randint", 2**31 + 1, 20, lambda: np.random.randint(2**31 + 1)),
    ("np.random.randint(2**32)", "randint", 2**32, 5, lambda: np.random.randint(2**32)),
    # crosses the 624-word block boundary
    ("np.random.rand(300)", "random_sample", [300], 1, lambda: np.random.rand(300)),
    ("np.random.randint(100)", "randint", 100, 50, lambda: np.random.randint(100)),
    ("np.random.rand(2, 3)", "random_sample", [2, 3], 1, lambda: np.random.rand(2, 3)),
]


def call(fn, op):
    """Runs one numpy call; returns its values flattened in C order as Python ints/floats."""
    result = np.asarray(fn())
    if op == "randint":
        assert result.shape == ()
        return [int(result)]
    return [float(x) for x in result.ravel(order="C")]


def sequence_case(seed):
    np.random.seed(seed)
    check = RawStream(seed, 5000)
    ops = []
    for text, op, arg, repeat, fn in SEQUENCE:
        values = []
        for _ in range(repeat):
            before = check.i
            got = call(fn, op)
            if op == "randint":
                expected = [check.randint(arg)]
                if arg == 1:
                    assert check.i == before  # randint(1) consumes nothing
            else:
                count = int(np.prod(arg)) if arg else 1
                expected = [check.random_sample() for _ in range(count)]
            assert got == expected, (seed, text, got, expected)
            values.extend(got)
        entry = {"call": text, "repeat": repeat, "op": op}
        if op == "randint":
            entry["high"] = arg
        else:
            entry["shape"] = arg
        entry["values"] = values
        ops.append(entry)
    assert check.i > 624, check.i  # the sequence regenerates the block at least once
    return {"seed": seed, "ops": ops}


def reseed_case(first_seed, first_draws, second_seed, second_draws):
    np.random.seed(first_seed)
    before = [float(x) for x in np.random.random_sample(first_draws)]
    np.random.seed(second_seed)
    after = [float(x) for x in np.random.random_sample(second_draws)]
    fresh = [float(x) for x in np.random.RandomState(second_seed).random_sample(second_draws)]
    assert after == fresh
    return {"first_seed": first_seed, "first_draws": first_draws, "before": before,
            "second_seed": second_seed, "second_draws": second_draws, "after": after}


def main():
    for bad in (-1, 2**32):
        try:
            np.random.RandomState(bad)
        except ValueError:
            pass
        else:
            raise AssertionError("numpy accepted seed %d" % bad)
    reseeds = [reseed_case(0, 7, 0, 3), reseed_case(0, 7, 42, 3), reseed_case(1, 700, 1, 5)]
    assert reseeds[0]["after"] == reseeds[0]["before"][:3]
    data = {
        "generated_by": "python3 java/core/src/test/resources/org/rnn4j/rng/make_numpy_random.py",
        "numpy_version": np.__version__,
        "raw": [raw_case(s) for s in SEEDS],
        "sequences": [sequence_case(s) for s in SEQUENCE_SEEDS],
        "reseed": reseeds,
    }
    text = json.dumps(data, indent=1)
    # Keep each list of numbers on one line.
    text = re.sub(r"\[\s*([-0-9.eE+,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)
    assert json.loads(text) == data
    with open(OUT, "w") as f:
        f.write(text + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The character language model's data pipeline (issue 10), in a few lines of plain Python, to reproduce a run
outside rnn4j and to cross-check rnn4j's Java implementation (org.rnn4j.text).

    python3 tools/charlm_data.py --text PATH [--batch 32] [--seq-len 64] [--val-fraction 0.05]

prints one JSON object: the files read (in order), the files skipped, the SHA-256 of the bytes used, the vocabulary
(code points), N, n_val, and for the training and validation data L, W and every window's inputs and targets
(time-major, index t*B + b).
"""
import argparse
import hashlib
import json
import math
import os
import sys


def text_files(root):
    """Regular files under root, relative paths as bytes, skipping links and dot-names; sorted as bytes."""
    found = []

    def walk(directory, prefix):
        with os.scandir(directory) as entries:
            for e in entries:
                if e.name.startswith(".") or e.is_symlink():
                    continue
                rel = prefix + e.name
                if e.is_dir(follow_symlinks=False):
                    walk(e.path, rel + "/")
                elif e.is_file(follow_symlinks=False):
                    found.append(rel)

    walk(root, "")
    return sorted(found, key=os.fsencode)


def read_text(path):
    """(code points, sha256 hex, files used, files skipped)."""
    if os.path.isdir(path):
        chunks, used, skipped = [], [], []
        for rel in text_files(path):
            with open(os.path.join(path, rel), "rb") as f:
                data = f.read()
            try:
                data.decode("utf-8")  # strict: no BOM stripping, no newline translation
            except UnicodeDecodeError:
                skipped.append(rel)
                continue
            chunks.append(data)
            used.append(rel)
        data = b"".join(chunks)
    else:
        with open(path, "rb") as f:
            data = f.read()
        used, skipped = [os.path.basename(path)], []
    return [ord(c) for c in data.decode("utf-8")], hashlib.sha256(data).hexdigest(), used, skipped


def streams(tokens, batch, seq_len):
    """L, W and the windows, as PyTorch's word-language-model example cuts its data (short last window dropped)."""
    length = len(tokens) // batch
    windows = max(0, (length - 1) // seq_len)
    s = [tokens[b * length:(b + 1) * length] for b in range(batch)]
    out = []
    for w in range(windows):
        inputs = [s[b][w * seq_len + t] for t in range(seq_len) for b in range(batch)]
        targets = [s[b][w * seq_len + t + 1] for t in range(seq_len) for b in range(batch)]
        out.append({"inputs": inputs, "targets": targets})
    return {"L": length, "W": windows, "windows": out}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--text", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--val-fraction", type=float, default=0.05)
    a = p.parse_args()
    text, sha, used, skipped = read_text(a.text)
    vocabulary = sorted(set(text))
    index = {c: i for i, c in enumerate(vocabulary)}
    tokens = [index[c] for c in text]
    n = len(tokens)
    n_val = math.floor(n * a.val_fraction)  # the product is an IEEE double, as in rnn4j
    json.dump({
        "files": used, "skipped": skipped, "sha256": sha, "vocabulary": vocabulary, "n": n, "n_val": n_val,
        "train": streams(tokens[:n - n_val], a.batch, a.seq_len),
        "validation": streams(tokens[n - n_val:], a.batch, a.seq_len),
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Read and write safetensors files with numpy alone (no safetensors or torch package needed).

    python3 tools/safetensors_numpy.py dump FILE         # prints the file as JSON (see dump())
    python3 tools/safetensors_numpy.py write-sample FILE # writes a small file of known content

As a module: load(path) -> (tensors: {name: ndarray}, metadata: {str: str});
save(path, tensors, metadata) writes as the reference implementation does (layout by decreasing dtype alignment,
then name; header padded with spaces to a multiple of 8).
"""
import json
import struct
import sys

import numpy as np

# name -> numpy dtype (little-endian), in the reference implementation's alignment order
DTYPES = {
    "BOOL": "|b1", "U8": "|u1", "I8": "|i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8",
}
ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
         "I64", "U64"]


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError(f"{path}: bad header length {n}")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    buffer = memoryview(data)[8 + n:]
    tensors, end = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        if begin != end:
            raise ValueError(f"{path}: tensor {name} does not follow the previous one")
        dtype = np.dtype(DTYPES[info["dtype"]])
        count = int(np.prod(info["shape"], dtype=np.int64))
        if stop - begin != count * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name}: shape and offsets disagree")
        tensors[name] = np.frombuffer(buffer[begin:stop], dtype=dtype).reshape(info["shape"])
        end = stop
    if end != len(buffer):
        raise ValueError(f"{path}: the tensors do not cover the data")
    return tensors, metadata


def save(path, tensors, metadata=None):
    names = sorted(tensors, key=lambda k: (-ORDER.index(dtype_name(tensors[k])), k.encode("utf-8")))
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=lambda k: k.encode("utf-8"))}
    for name in names:
        a = np.asarray(tensors[name])
        blob = a.astype(a.dtype.newbyteorder("<")).tobytes(order="C")
        header[name] = {"dtype": dtype_name(a), "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def dtype_name(a):
    for name, d in DTYPES.items():
        if np.dtype(d) == a.dtype.newbyteorder("<") or np.dtype(d) == a.dtype:
            return name
    raise ValueError(f"unsupported dtype {a.dtype}")


def dump(path):
    """{"metadata": {...}, "tensors": {name: {"dtype", "shape", "values", "bits"}}, "order": [names by offset]}."""
    tensors, metadata = load(path)
    out = {"metadata": metadata, "order": list(tensors), "tensors": {}}
    for name, a in tensors.items():
        flat = a.reshape(-1)
        bits = flat.view({1: "<u1", 2: "<u2", 4: "<u4", 8: "<u8"}[a.dtype.itemsize]) if a.dtype.kind != "b" else flat
        out["tensors"][name] = {"dtype": dtype_name(a), "shape": list(a.shape),
                                "values": [v.item() if np.isfinite(v) else repr(v.item()) for v in flat]
                                if a.dtype.kind == "f" else flat.tolist(),
                                "bits": bits.tolist()}
    return out


def sample():
    """A file of known content, for the other side to check."""
    return ({
        "w.f32": np.arange(6, dtype="<f4").reshape(2, 3) / np.float32(3),
        "w.f64": np.array([[0.1, -2.5e-300], [np.pi, -0.0]], dtype="<f8"),
        "step": np.array(7, dtype="<i8"),
        "counts": np.array([-1, 2, 3], dtype="<i4"),
        "empty": np.zeros((0, 4), dtype="<f4"),
    }, {"format": "numpy-sample", "unicode": "h\u00e9llo \U0001d538 \"quoted\"\n"})


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        json.dump(dump(sys.argv[2]), sys.stdout, ensure_ascii=False)
        print()
    elif len(sys.argv) == 3 and sys.argv[1] == "write-sample":
        save(sys.argv[2], *sample())
    else:
        sys.exit(__doc__)

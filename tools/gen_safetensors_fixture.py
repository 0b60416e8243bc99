#!/usr/bin/python3
"""Tiny safetensors fixtures for sasa's reader and writer (src/io/safetensors.ts), standard library only.

Layout: 8-byte little-endian u64 header length N, N bytes of JSON (no spaces, __metadata__ first,
tensors in the order written, padded with spaces to a multiple of 8), then the tensors' bytes.

Run: /usr/bin/python3 tools/gen_safetensors_fixture.py test/golden
Writes f32_i32.safetensors (the writer must reproduce it byte for byte) and
all_dtypes.safetensors (F32, I32, F64, I64, for the reader). test/io/safetensors.test.ts holds the same values.
"""
import json
import os
import struct
import sys

FORMATS = {"F32": "f", "I32": "i", "F64": "d", "I64": "q"}


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        raw = struct.pack("<%d%s" % (len(values), FORMATS[dtype]), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


F32_I32 = [
    ("conv.weight", "F32", [2, 3], [0.5, -1.25, 3.0, 0.1, -0.0, 1e-8]),
    ("step", "I32", [], [42]),
    ("labels", "I32", [4], [0, -1, 2147483647, -2147483648]),
    ("empty", "F32", [0, 2], []),
]
ALL_DTYPES = [
    ("b.f64", "F64", [3], [0.1, -2.5, 1e300]),
    ("a.i64", "I64", [2], [-(2**63), 2**53 + 1]),
    ("c.f32", "F32", [1, 2], [1.5, -3.75]),
    ("d.i32", "I32", [2], [7, -9]),
]

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "test/golden"
    files = {
        "f32_i32.safetensors": safetensors(F32_I32, {"format": "pt", "source": "sasa"}),
        "all_dtypes.safetensors": safetensors(ALL_DTYPES),
    }
    for name, content in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(content)

"""The safetensors format (src/io/safetensors.ts), standard library + torch only.

File: u64 LE header length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets}, optional
"__metadata__": {str: str}} padded with spaces to a multiple of 8, then the little-endian tensor
bytes. The reader takes F32, F64, I32, I64; the writer writes F32 (floats) and I32/I64 (integers).
Model state: every parameter and BN running statistic under its PyTorch name (src/io/torch_names.ts);
BN's num_batches_tracked is neither written nor expected (sasa has no such weight).
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}
METADATA = "__metadata__"
assert sys.byteorder == "little", "safetensors needs a little-endian host"


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (in order) to `path`; float64 tensors are stored as F32. Returns the file's size."""
    header = {} if metadata is None else {METADATA: {str(k): str(v) for k, v in metadata.items()}}
    chunks, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().cpu()
        if t.is_floating_point():
            t = t.to(torch.float32)
        if t.dtype not in NAMES:
            raise ValueError(f"{path}: tensor '{name}' has dtype {t.dtype} (float, int32 or int64 only)")
        data = t.contiguous().numpy().tobytes()  # the host is little-endian (checked at import)
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)
    return 8 + len(h) + offset


def read_safetensors(path):
    """Returns ({name: tensor}, metadata); errors name the file and the tensor."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: {len(blob)} bytes, too short for the header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file (truncated?)")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = blob[8 + n:]
    metadata = header.pop(METADATA, {})
    tensors = {}
    for name, e in header.items():
        dtype = DTYPES.get(e.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor '{name}' has unknown dtype {e.get('dtype')!r}")
        begin, end = e["data_offsets"]
        if end > len(data):
            raise ValueError(f"{path}: tensor '{name}' data_offsets [{begin}, {end}] exceed the data section")
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.zeros(0, dtype=dtype)
        tensors[name] = t.reshape(e["shape"])
    return tensors, metadata


def state_of(module):
    """The module's state as sasa names it: parameters and BN running stats, no num_batches_tracked."""
    return {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}


def save_safetensors(module, path, metadata=None):
    """Writes every weight of `module` (float32, PyTorch names and layouts) as sasa's importTorchSafetensors reads."""
    write_safetensors(path, state_of(module), {"format": "pt", **(metadata or {})})


def load_safetensors(module, path):
    """Sets every weight of `module` from a sasa export; missing, extra or misshapen weights are errors."""
    tensors, _ = read_safetensors(path)
    own = state_of(module)
    missing = [k for k in own if k not in tensors]
    extra = [k for k in tensors if k not in own]
    if missing or extra:
        raise ValueError(f"{path}: missing weights {missing[:10]}, weights not in the model {extra[:10]}")
    for k, t in tensors.items():
        if list(t.shape) != list(own[k].shape):
            raise ValueError(f"{path}: weight '{k}' has shape {list(t.shape)}, the model needs {list(own[k].shape)}")
    with torch.no_grad():
        for k, v in own.items():
            v.copy_(tensors[k].to(v.dtype))
    return module

#!/usr/bin/python3
"""The embedded default dataset: a class-balanced subset of Fashion-MNIST in the original IDX format.

Takes, in file order, the first 1000 training images of each of the 10 classes (10 000 images)
and the first 200 test images of each class (2 000 images) from the original gzipped IDX files
and writes them, gzipped, to data/fashion-mnist-subset/. Standard library only; deterministic
(gzip mtime 0).

Run: /usr/bin/python3 tools/make_fashion_mnist_subset.py ../shared/data/fashion-mnist data/fashion-mnist-subset
"""
import gzip
import os
import struct
import sys


def read(path):
    with gzip.open(path, "rb") as f:
        return f.read()


def subset(src, dst, split, per_class):
    images = read(os.path.join(src, f"{split}-images-idx3-ubyte.gz"))
    labels = read(os.path.join(src, f"{split}-labels-idx1-ubyte.gz"))
    magic, n, rows, cols = struct.unpack(">IIII", images[:16])
    assert magic == 0x803 and struct.unpack(">II", labels[:8]) == (0x801, n)
    size = rows * cols
    taken, counts = [], [0] * 10
    for i in range(n):
        c = labels[8 + i]
        if counts[c] < per_class:
            counts[c] += 1
            taken.append(i)
    assert counts == [per_class] * 10
    out_images = struct.pack(">IIII", 0x803, len(taken), rows, cols) + b"".join(
        images[16 + i * size : 16 + (i + 1) * size] for i in taken
    )
    out_labels = struct.pack(">II", 0x801, len(taken)) + bytes(labels[8 + i] for i in taken)
    for name, data in ((f"{split}-images-idx3-ubyte.gz", out_images), (f"{split}-labels-idx1-ubyte.gz", out_labels)):
        with open(os.path.join(dst, name), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(data)


if __name__ == "__main__":
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    subset(src, dst, "train", 1000)
    subset(src, dst, "t10k", 200)

"""Data for train_ddp.py: the IDX format (data/fashion-mnist-subset, MNIST-style, gzipped or not) and
ImageNet-style folders (torchvision's ImageFolder: ROOT/train/<class>/*.jpg, ROOT/val/<class>/*.jpg).

IDX: big-endian magic 0x00 0x00 type rank, `rank` u32 sizes, then the data (type 0x08 = u8).
Images are scaled as sasa scales them: x = (pixel / 255 - mean) / std per channel, NCHW.
"""
import gzip
import os
import struct

import torch
from torch.utils.data import TensorDataset

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def read_idx(path):
    """An IDX file (u8 data) as a uint8 tensor of its shape; errors name the file."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        blob = f.read()
    if len(blob) < 4 or blob[0] != 0 or blob[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic)")
    dtype, rank = blob[2], blob[3]
    if dtype != 0x08:
        raise ValueError(f"{path}: IDX data type 0x{dtype:02x}, only unsigned bytes (0x08) are read")
    dims = struct.unpack(f">{rank}I", blob[4:4 + 4 * rank])
    start, count = 4 + 4 * rank, 1
    for d in dims:
        count *= d
    if len(blob) - start != count:
        raise ValueError(f"{path}: {len(blob) - start} data bytes, the header {list(dims)} needs {count}")
    return torch.frombuffer(bytearray(blob[start:]), dtype=torch.uint8).reshape(dims)


def idx_split(directory, split):
    """(images uint8 [N, 28, 28], labels int64 [N]) of `split` ('train' or 't10k') in an MNIST-style directory."""
    def find(kind):
        for suffix in (".gz", ""):
            path = os.path.join(directory, f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte{suffix}")
            if os.path.exists(path):
                return path
        raise FileNotFoundError(f"{directory}: no {split} {kind} IDX file")
    images, labels = read_idx(find("images")), read_idx(find("labels")).long()
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}: {images.shape[0]} {split} images but {labels.shape[0]} labels")
    return images, labels


def idx_datasets(directory):
    """Train and test TensorDatasets, x [N, 1, 28, 28] scaled by the training set's mean and std."""
    train_x, train_y = idx_split(directory, "train")
    test_x, test_y = idx_split(directory, "t10k")
    pixels = train_x.double() / 255
    mean, std = pixels.mean().item(), pixels.std(unbiased=False).item()

    def scale(x):
        return ((x.float() / 255 - mean) / std).unsqueeze(1)
    return TensorDataset(scale(train_x), train_y), TensorDataset(scale(test_x), test_y)


def folder_datasets(root, size):
    """ImageNet-style train/val folders: random-resized crop + flip for training, resize to size/0.875
    and center crop for evaluation (SASA.md §5), ImageNet mean and std."""
    from torchvision import datasets, transforms
    normalize = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train = transforms.Compose([transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
                                transforms.ToTensor(), normalize])
    val = transforms.Compose([transforms.Resize(round(size / 0.875)), transforms.CenterCrop(size),
                              transforms.ToTensor(), normalize])
    return (datasets.ImageFolder(os.path.join(root, "train"), train),
            datasets.ImageFolder(os.path.join(root, "val"), val))

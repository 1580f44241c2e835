"""tapegrad/examples/pytorch/idx.py: the IDX reader the PyTorch twins share (MNIST-format files,
raw or .gz): images as float32 [N, rows, cols] in [0, 1], labels as int64 [N]."""
import gzip
import os
import struct

import torch


def idx(path):
    """Reads PATH, or PATH.gz when only that exists."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, rows, cols).float() / 255
    if magic != 0x801:
        raise ValueError(f"{path}: not an IDX file of images or labels (magic {magic:#x})")
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).long()

#!/usr/bin/env python3
"""tapegrad/tests/reference/mnist_backbone_reference.py: a small MNIST classifier trained by
Debian's PyTorch (python3-torch 1.13) for one epoch on data/mnist (tools/fetch_mnist.sh), exported
to ONNX (opset 17, eval mode, dynamic batch) as tests/reference/onnx_models/mnist_cnn/model.onnx:
the "model trained elsewhere" that examples/transfer_learning.cc transfers to Fashion-MNIST.
Conv(1->8, 3) BN ReLU MaxPool, Conv(8->16, 3) BN ReLU MaxPool, Flatten, Linear(400->64) ReLU,
Linear(64->10). Prints its MNIST test accuracy. Regenerate with:
    /usr/bin/python3 tests/reference/mnist_backbone_reference.py
"""
import os

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MEAN, STD = 0.1307, 0.3081


def idx(name):
    with open(os.path.join(ROOT, "data", "mnist", name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def images(name):
    return (torch.from_numpy(idx(name).astype(np.float32) / 255.0).unsqueeze(1) - MEAN) / STD


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    x, y = images("train-images-idx3-ubyte"), torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
    tx, ty = images("t10k-images-idx3-ubyte"), torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(400, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    order = torch.randperm(len(x))
    model.train()
    for i in range(0, len(x), 64):
        b = order[i:i + 64]
        opt.zero_grad()
        nn.functional.cross_entropy(model(x[b]), y[b]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(tx).argmax(1) == ty).float().mean().item()
    out = os.path.join(ROOT, "tests", "reference", "onnx_models", "mnist_cnn")
    os.makedirs(out, exist_ok=True)
    torch.onnx.export(model, (x[:2],), os.path.join(out, "model.onnx"), input_names=["input"],
                      output_names=["logits"], opset_version=17, dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(f"mnist_cnn: MNIST test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()

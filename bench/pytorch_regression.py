#!/usr/bin/env python3
"""tapegrad/bench/pytorch_regression.py: examples/regression.cc in Debian's PyTorch, for
bench/contention.sh.

The same data (256 points of sin(3x) plus noise), model (1 -> 64 -> 64 -> 1 with tanh), Adam
(lr 0.01), cosine schedule over 1500 steps and MSE loss, with PyTorch's default thread count.
Prints "final mse X" and "seconds X" (the training loop only, not the import of torch).
"""
import math
import time

import torch
from torch import nn


def main():
    torch.manual_seed(0)
    x = torch.tensor([-1.0 + 2.0 * i / 255 for i in range(256)]).reshape(256, 1)
    y = torch.sin(3 * x) + torch.randn(256, 1) * 0.05
    model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1500)
    criterion = nn.MSELoss()
    start = time.perf_counter()
    loss = None
    for _ in range(1500):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - start
    mse = loss.item()
    assert math.isfinite(mse)
    print(f"final mse {mse:.5f}")
    print(f"seconds {seconds:.3f}")


if __name__ == "__main__":
    main()

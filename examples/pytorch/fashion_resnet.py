#!/usr/bin/env python3
"""tapegrad/examples/pytorch/fashion_resnet.py: examples/fashion_resnet.cc's recipe in PyTorch: the
same ResNet-8 (examples/resnet.h), Fashion-MNIST from the same files normalized with the same
statistics, random crop with 2 pixels of zero padding and horizontal flip per image (done on whole
batches here), batch 128, SGD lr 0.05 Nesterov momentum 0.9 weight decay 5e-4, cosine-annealed over
every step; printed in fashion_resnet.cc's format:
  epoch E train_loss X test_accuracy Y seconds Z
Run with Debian's PyTorch:
  /usr/bin/python3 examples/pytorch/fashion_resnet.py --data_dir=/usr/share/datasets/fashion-mnist --epochs=15
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn
from idx import idx

MEAN, STD = 0.2860, 0.3530


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.shortcut(x))


def resnet8(width=1):
    a, b, c = 16 * width, 32 * width, 64 * width
    return nn.Sequential(nn.Conv2d(1, a, 3, 1, 1, bias=False), nn.BatchNorm2d(a), nn.ReLU(),
                         BasicBlock(a, a, 1), BasicBlock(a, b, 2), BasicBlock(b, c, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def augment(x, padding=2):
    """x [N, 1, H, W]: each image zero-padded, cut back to H x W at a random place, flipped with p 0.5."""
    n, _, h, w = x.shape
    padded = F.pad(x, (padding,) * 4)
    dy = torch.randint(0, 2 * padding + 1, (n, 1, 1))
    dx = torch.randint(0, 2 * padding + 1, (n, 1, 1))
    rows = (dy + torch.arange(h).view(1, h, 1)).expand(n, h, w)
    cols = (dx + torch.arange(w).view(1, 1, w)).expand(n, h, w)
    out = padded[torch.arange(n).view(n, 1, 1), 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n) < 0.5
    return torch.where(flip.view(n, 1, 1, 1), out.flip(3), out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--width", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--channels_last", type=int, default=1, help="model and images in channels-last memory format")
    a = p.parse_args()
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train_x = idx(f"{a.data_dir}/train-images-idx3-ubyte").unsqueeze(1)
    train_y = idx(f"{a.data_dir}/train-labels-idx1-ubyte")
    test_x = (idx(f"{a.data_dir}/t10k-images-idx3-ubyte").unsqueeze(1) - MEAN) / STD
    test_y = idx(f"{a.data_dir}/t10k-labels-idx1-ubyte")
    model = resnet8(a.width).to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batches = (len(train_x) + a.batch_size - 1) // a.batch_size
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs * batches)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        model.train()
        total = 0.0
        for batch in torch.randperm(len(train_x)).split(a.batch_size):
            x = ((augment(train_x[batch]) - MEAN) / STD).contiguous(memory_format=fmt)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), train_y[batch])
            loss.backward()
            opt.step()
            schedule.step()
            total += loss.item() * len(batch)
        model.eval()
        with torch.no_grad():
            correct = sum((model(x.contiguous(memory_format=fmt)).argmax(1) == y).sum().item()
                          for x, y in zip(test_x.split(500), test_y.split(500)))
        print(f"epoch {epoch} train_loss {total / len(train_x):.4f} test_accuracy {correct / len(test_x):.4f} "
              f"seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

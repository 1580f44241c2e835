#!/usr/bin/env python3
"""tapegrad/examples/pytorch/custom_dataset.py: examples/custom_dataset.cc's recipe in PyTorch
(LibTorch's cpp/custom-dataset): an image folder (one sub-folder of PNG or JPEG images per class,
classes and files in name order, read with Pillow as RGB or grey values in [0, 1]); per class its
last --test_fraction of images held out; per-channel mean and (unbiased) std of the training
images; random crops with padding size/8 and horizontal flips (each image its own) before the
normalization; conv 16 - ReLU - max-pool - conv 32 - ReLU - max-pool - Linear; Adam 2e-3, batch 32.
Printed in custom_dataset.cc's format:
  epoch E train_loss X test_accuracy Y seconds Z
Run with Debian's PyTorch and Pillow (python3-torch, python3-pil), on make_shapes' folder:
  /usr/bin/python3 examples/pytorch/custom_dataset.py --data_dir=data/shapes --epochs=15
"""
import argparse
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn


def load_image_folder(root):
    """(images [N, C, H, W] float in [0, 1], labels [N], classes): classes and files sorted by name."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    images, labels = [], []
    for c, name in enumerate(classes):
        folder = os.path.join(root, name)
        for f in sorted(os.listdir(folder)):
            if f.startswith(".") or not f.lower().endswith((".png", ".jpg", ".jpeg")):
                continue
            with Image.open(os.path.join(folder, f)) as im:
                a = np.asarray(im.convert("RGB" if im.mode not in ("L", "LA") else "L"), dtype=np.float32) / 255.0
            images.append(a[None] if a.ndim == 2 else a.transpose(2, 0, 1))
            labels.append(c)
    return torch.from_numpy(np.stack(images)), torch.tensor(labels), classes


def split(labels, test_fraction):
    train, test = [], []
    for c in range(int(labels.max()) + 1):
        rows = torch.nonzero(labels == c).flatten().tolist()
        held = int(round(len(rows) * test_fraction))
        train += rows[:len(rows) - held]
        test += rows[len(rows) - held:]
    return torch.tensor(train), torch.tensor(test)


def augment(x, padding, generator):
    """Each image cropped at a random offset from its zero-padded copy, then flipped with p 1/2."""
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n, 1, 1, 1), generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n, 1, 1, 1), generator=generator)
    flip = torch.rand(n, 1, 1, 1, generator=generator) < 0.5
    rows = dy + torch.arange(h).view(1, 1, h, 1)
    cols = dx + torch.where(flip, torch.arange(w - 1, -1, -1), torch.arange(w)).view(n, 1, 1, w)
    return padded[torch.arange(n).view(n, 1, 1, 1), torch.arange(c).view(1, c, 1, 1), rows, cols]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", required=True)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--test_fraction", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    images, labels, classes = load_image_folder(a.data_dir)
    train_rows, test_rows = split(labels, a.test_fraction)
    train_x, train_y, test_x, test_y = images[train_rows], labels[train_rows], images[test_rows], labels[test_rows]
    c, size = train_x.shape[1], train_x.shape[2]
    mean = train_x.mean((0, 2, 3)).view(1, c, 1, 1)
    std = train_x.std((0, 2, 3)).view(1, c, 1, 1)
    torch.manual_seed(a.seed)
    model = nn.Sequential(nn.Conv2d(c, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(32 * (size // 4) * (size // 4), len(classes)))
    optimizer = torch.optim.Adam(model.parameters(), a.lr)
    generator = torch.Generator().manual_seed(a.seed)
    print(f"classes {len(classes)} train_images {len(train_rows)} test_images {len(test_rows)} "
          f"image {c}x{size}x{train_x.shape[3]}", flush=True)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        total = 0.0
        for i in range(0, len(order), a.batch_size):
            rows = order[i:i + a.batch_size]
            x = (augment(train_x[rows], size // 8, generator) - mean) / std
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), train_y[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        model.eval()
        with torch.no_grad():
            accuracy = (model((test_x - mean) / std).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch} train_loss {total / len(train_x):.4f} test_accuracy {accuracy:.4f} "
              f"seconds {time.time() - start:.3f}", flush=True)
    print(f"test_accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()

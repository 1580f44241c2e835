#!/usr/bin/env python3
"""tapegrad/examples/pytorch/siamese.py: examples/siamese.cc's recipe in PyTorch (pytorch/examples'
siamese_network on Fashion-MNIST): the same embedding CNN (conv 32, conv 64, each ReLU + max-pool,
Linear 128 + ReLU) shared by both images of a pair, the same head on the two embeddings
concatenated (Linear 128, ReLU, Linear 1), binary cross-entropy on the logit, Adam 1e-3 with
StepLR(1, 0.7), batch 64; every training image paired each epoch with a partner of its own class
or another, half and half; test pairs drawn once from the test images. Printed in siamese.cc's
format:
  epoch E train_loss X pair_accuracy Y seconds Z
Run with Debian's PyTorch:
  /usr/bin/python3 examples/pytorch/siamese.py --data_dir=/usr/share/datasets/fashion-mnist --epochs=5
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn
from idx import idx

MEAN, STD = 0.2860, 0.3530


class Siamese(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                   nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                   nn.Linear(64 * 7 * 7, 128), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * 128, 128), nn.ReLU(), nn.Linear(128, 1), nn.Flatten(0))

    def forward(self, a, b):
        return self.head(torch.cat([self.embed(a), self.embed(b)], 1))


def make_pairs(labels, generator):
    """(indices [N, 2], targets [N]): each image with a partner of its class (1) or another (0)."""
    by_class = [torch.nonzero(labels == c).flatten() for c in range(10)]
    n = len(labels)
    positive = torch.rand(n, generator=generator) < 0.5
    other = (labels + torch.randint(1, 10, (n,), generator=generator)) % 10  # a different class
    partner_class = torch.where(positive, labels, other)
    partners = torch.empty(n, dtype=torch.long)
    for c in range(10):
        rows = torch.nonzero(partner_class == c).flatten()
        partners[rows] = by_class[c][torch.randint(0, len(by_class[c]), (len(rows),), generator=generator)]
    return torch.stack([torch.arange(n), partners], 1), positive.float()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--gamma", type=float, default=0.7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    pairing = torch.Generator().manual_seed(a.seed + 1)
    train_x = (idx(f"{a.data_dir}/train-images-idx3-ubyte").unsqueeze(1) - MEAN) / STD
    train_y = idx(f"{a.data_dir}/train-labels-idx1-ubyte")
    test_x = (idx(f"{a.data_dir}/t10k-images-idx3-ubyte").unsqueeze(1) - MEAN) / STD
    test_pairs, test_same = make_pairs(idx(f"{a.data_dir}/t10k-labels-idx1-ubyte"), pairing)
    model = Siamese()
    opt = torch.optim.Adam(model.parameters(), a.lr)
    schedule = torch.optim.lr_scheduler.StepLR(opt, 1, a.gamma)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        pairs, same = make_pairs(train_y, pairing)
        model.train()
        total = 0.0
        for batch in torch.randperm(len(pairs)).split(a.batch_size):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(train_x[pairs[batch, 0]], train_x[pairs[batch, 1]]),
                                                      same[batch])
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        schedule.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for rows in torch.arange(len(test_pairs)).split(1000):
                logits = model(test_x[test_pairs[rows, 0]], test_x[test_pairs[rows, 1]])
                correct += ((logits > 0) == (test_same[rows] > 0.5)).sum().item()
        print(f"epoch {epoch} train_loss {total / len(pairs):.4f} pair_accuracy {correct / len(test_pairs):.4f} "
              f"seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tapegrad/examples/pytorch/dcgan.py: examples/dcgan.cc's recipe in PyTorch (pytorch/examples'
cpp/dcgan): the same generator (transposed convolutions 100 -> 256x4x4 -> 128x7x7 -> 64x14x14 ->
1x28x28, batch norm, ReLU, tanh) and discriminator (convolutions, batch norm, LeakyReLU 0.2, one
logit), MNIST pixels scaled to [-1, 1], batch 64 (last partial batch dropped), Adam 2e-4 beta1 0.5
for both, real labels drawn from [0.8, 1], binary cross-entropy on logits; after each epoch the same
judge (cnn_small trained one epoch with Adam 1e-3, batch 50) labels 1,000 generated digits.
Printed in dcgan.cc's format:
  epoch E d_loss X g_loss Y sample_confidence C class_coverage V seconds S
Run with Debian's PyTorch: /usr/bin/python3 examples/pytorch/dcgan.py --data_dir=data/mnist --epochs=5
"""
import argparse
import time

import torch
import torch.nn.functional as F
from torch import nn
from idx import idx

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def generator(noise):
    return nn.Sequential(
        nn.ConvTranspose2d(noise, 256, 4, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 3, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), nn.Tanh())


def discriminator():
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
        nn.Conv2d(256, 1, 3, bias=False), nn.Flatten(0))


def train_judge(images, labels, test_images, test_labels):
    model = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(32 * 7 * 7, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = (images - MNIST_MEAN) / MNIST_STD
    for batch in torch.randperm(len(x)).split(50):
        opt.zero_grad()
        F.cross_entropy(model(x[batch]), labels[batch]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model((test_images - MNIST_MEAN) / MNIST_STD).argmax(1) == test_labels).float().mean().item()
    print(f"judge cnn_small test_accuracy {accuracy:.4f}", flush=True)
    return model


@torch.no_grad()
def judge_samples(judge, gen, n, noise):
    """Mean top probability and the rarest class's share of n generated digits (generator in
    training mode, as pytorch/examples samples it)."""
    counts, confidence = torch.zeros(10), 0.0
    for first in range(0, n, 500):
        m = min(500, n - first)
        pixels = (gen(torch.randn(m, noise, 1, 1)) + 1) * 0.5
        top, label = torch.softmax(judge((pixels - MNIST_MEAN) / MNIST_STD), 1).max(1)
        confidence += top.sum().item()
        counts += torch.bincount(label, minlength=10)
    return confidence / n, counts.min().item() / n


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", default="data/mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--noise", type=int, default=100)
    p.add_argument("--train_limit", type=int, default=0)
    p.add_argument("--judged_samples", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = idx(f"{a.data_dir}/train-images-idx3-ubyte").unsqueeze(1)
    labels = idx(f"{a.data_dir}/train-labels-idx1-ubyte")
    judge = train_judge(images, labels, idx(f"{a.data_dir}/t10k-images-idx3-ubyte").unsqueeze(1),
                        idx(f"{a.data_dir}/t10k-labels-idx1-ubyte"))
    real_images = (images[:a.train_limit or len(images)] - 0.5) / 0.5
    gen, disc = generator(a.noise), discriminator()
    g_opt = torch.optim.Adam(gen.parameters(), a.lr, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(disc.parameters(), a.lr, betas=(0.5, 0.999))
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        d_sum = g_sum = 0.0
        batches = [b for b in torch.randperm(len(real_images)).split(a.batch_size) if len(b) == a.batch_size]
        for batch in batches:
            real, n = real_images[batch], len(batch)
            d_opt.zero_grad()
            fake = gen(torch.randn(n, a.noise, 1, 1))
            d_loss = (F.binary_cross_entropy_with_logits(disc(real), torch.rand(n) * 0.2 + 0.8)
                      + F.binary_cross_entropy_with_logits(disc(fake.detach()), torch.zeros(n)))
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            g_loss = F.binary_cross_entropy_with_logits(disc(fake), torch.ones(n))
            g_loss.backward()
            g_opt.step()
            d_sum += d_loss.item()
            g_sum += g_loss.item()
        confidence, coverage = judge_samples(judge, gen, a.judged_samples, a.noise)
        print(f"epoch {epoch} d_loss {d_sum / len(batches):.4f} g_loss {g_sum / len(batches):.4f} "
              f"sample_confidence {confidence:.4f} class_coverage {coverage:.4f} seconds {time.time() - start:.1f}",
              flush=True)


if __name__ == "__main__":
    main()

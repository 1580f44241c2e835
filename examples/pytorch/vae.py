#!/usr/bin/env python3
"""tapegrad/examples/pytorch/vae.py: examples/vae.cc's recipe in PyTorch (pytorch/examples' vae):
the same MLP VAE, Adam 1e-3, batch 128, MNIST pixels in [0, 1] from the same IDX files, the test
loss (negative ELBO in nats per image, mean code) after each epoch, printed in vae.cc's format:
  epoch E train_loss X test_loss Y seconds Z
Run with Debian's PyTorch: /usr/bin/python3 examples/pytorch/vae.py --data_dir=data/mnist --epochs=10
"""
import argparse
import time

import torch
import torch.nn.functional as F
from idx import idx


class Vae(torch.nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.fc1 = torch.nn.Linear(784, 400)
        self.fc21 = torch.nn.Linear(400, latent)
        self.fc22 = torch.nn.Linear(400, latent)
        self.fc3 = torch.nn.Linear(latent, 400)
        self.fc4 = torch.nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def negative_elbo(recon, x, mu, logvar):
    return F.binary_cross_entropy(recon, x, reduction="sum") - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", default="data/mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--latent", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = idx(f"{a.data_dir}/train-images-idx3-ubyte").reshape(-1, 784)
    test = idx(f"{a.data_dir}/t10k-images-idx3-ubyte").reshape(-1, 784)
    model = Vae(a.latent)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        model.train()
        total = 0.0
        for batch in torch.randperm(len(train)).split(a.batch_size):
            x = train[batch]
            opt.zero_grad()
            recon, mu, logvar = model(x)
            loss = negative_elbo(recon, x, mu, logvar)
            loss.backward()
            opt.step()
            total += loss.item()
        model.eval()
        test_total = 0.0
        with torch.no_grad():
            for x in test.split(1000):
                recon, mu, logvar = model(x)
                test_total += negative_elbo(recon, x, mu, logvar).item()
        print(f"epoch {epoch} train_loss {total / len(train):.2f} test_loss {test_total / len(test):.2f} "
              f"seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tapegrad/examples/pytorch/mnist_rnn.py: examples/mnist_rnn.cc's recipe in PyTorch (pytorch/examples'
mnist_rnn): an LSTM(28, 128) over the 28 rows of each normalized MNIST image, a Linear on the last
hidden state, Adam 2e-3 with StepLR(1, 0.7), batch 64, printed in mnist_rnn.cc's format:
  epoch E train_loss X test_accuracy Y seconds Z
Run with Debian's PyTorch: /usr/bin/python3 examples/pytorch/mnist_rnn.py --data_dir=data/mnist --epochs=3
"""
import argparse
import time

import torch
from idx import idx


class RowLstm(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = torch.nn.LSTM(28, hidden, batch_first=True)
        self.fc = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data_dir", default="data/mnist")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--gamma", type=float, default=0.7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    norm = lambda x: (x - 0.1307) / 0.3081
    train_x, train_y = norm(idx(f"{a.data_dir}/train-images-idx3-ubyte")), idx(f"{a.data_dir}/train-labels-idx1-ubyte")
    test_x, test_y = norm(idx(f"{a.data_dir}/t10k-images-idx3-ubyte")), idx(f"{a.data_dir}/t10k-labels-idx1-ubyte")
    model = RowLstm(a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1, a.gamma)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        model.train()
        total = 0.0
        for batch in torch.randperm(len(train_x)).split(a.batch_size):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        sched.step()
        model.eval()
        with torch.no_grad():
            correct = sum((model(x).argmax(1) == y).sum().item() for x, y in zip(test_x.split(1000), test_y.split(1000)))
        print(f"epoch {epoch} train_loss {total / len(train_x):.4f} test_accuracy {correct / len(test_x):.4f} "
              f"seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

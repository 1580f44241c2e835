#!/usr/bin/env python3
"""tapegrad/examples/pytorch/time_sequence_prediction.py: examples/time_sequence_prediction.cc's
recipe in PyTorch (pytorch/examples' time_sequence_prediction): the same waves (the phases drawn
with tapegrad's generator, xoshiro256** seeded through splitmix64, reimplemented below so both sides
train on identical data), two LSTMCells of 51 and a Linear in float64, L-BFGS lr 0.8 (20 iterations
per step), the test waves predicted one step ahead then 1,000 steps from the model's own outputs;
printed in the C++ example's format:
  step S loss X test_loss Y seconds Z
Run with Debian's PyTorch: /usr/bin/python3 examples/pytorch/time_sequence_prediction.py --steps=15
"""
import argparse
import math
import time

import numpy as np
import torch
from torch import nn

MASK = (1 << 64) - 1


def tapegrad_u64s(seed, count):
    """The first `count` outputs of tapegrad's ops::Generator(seed).next_u64()."""
    def splitmix64(x):
        x = (x + 0x9E3779B97F4A7C15) & MASK
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return x, z ^ (z >> 31)

    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK

    s, x = [], seed
    for _ in range(4):
        x, v = splitmix64(x)
        s.append(v)
    out = []
    for _ in range(count):
        out.append((rotl((s[1] * 5) & MASK, 7) * 9) & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


class Sequence(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.lstm1, self.lstm2 = nn.LSTMCell(1, hidden), nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        n = input.size(0)
        zeros = lambda: torch.zeros(n, self.hidden, dtype=input.dtype)
        h1, c1, h2, c2 = zeros(), zeros(), zeros(), zeros()
        outputs = []
        output = None
        for x in list(input.split(1, dim=1)) + [None] * future:
            h1, c1 = self.lstm1(output if x is None else x, (h1, c1))
            h2, c2 = self.lstm2(h1, (h2, c2))
            output = self.linear(h2)
            outputs.append(output)
        return torch.cat(outputs, 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--waves", type=int, default=100)
    p.add_argument("--length", type=int, default=1000)
    p.add_argument("--hidden", type=int, default=51)
    p.add_argument("--future", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--initial_weights", default="", help="start from tapegrad's initial parameters (NAME.npy files)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    period = 20
    phases = [int(u % (8 * period)) - 4 * period for u in tapegrad_u64s(a.seed, a.waves)]
    t = torch.arange(a.length, dtype=torch.float64)
    data = torch.stack([torch.sin((t + ph) / period) for ph in phases])
    input, target = data[3:, :-1], data[3:, 1:]
    test_input, test_target = data[:3, :-1], data[:3, 1:]
    model = Sequence(a.hidden).double()
    if a.initial_weights:
        with torch.no_grad():
            for name, param in model.named_parameters():
                param.copy_(torch.from_numpy(np.load(f"{a.initial_weights}/{name}.npy")))
    optimizer = torch.optim.LBFGS(model.parameters(), lr=0.8)
    mse = nn.MSELoss()
    for step in range(1, a.steps + 1):
        start = time.time()

        def closure():
            optimizer.zero_grad()
            loss = mse(model(input), target)
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        with torch.no_grad():
            prediction = model(test_input, a.future)
            test_loss = mse(prediction[:, :-a.future] if a.future else prediction, test_target).item()
        print(f"step {step} loss {loss.item():.6g} test_loss {test_loss:.6g} seconds {time.time() - start:.1f}",
              flush=True)


if __name__ == "__main__":
    main()

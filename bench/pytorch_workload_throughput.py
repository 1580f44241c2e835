#!/usr/bin/env python3
"""tapegrad/bench/pytorch_workload_throughput.py: the workloads of bench/workload_throughput.cc
in Debian's PyTorch (python3-torch), same models, data, optimizers, batch sizes and
measurements, printing the same lines:
    /usr/bin/python3 bench/pytorch_workload_throughput.py --workload=char_gpt --steps=20 --threads=2
The models are the examples' twins (examples/pytorch/char_gpt.py, fashion_resnet.py). PyTorch 1.13
has no fused attention, so char_gpt's attention is the textbook masked softmax; generation is the naive loop over the last `context`
tokens (generate_tokens_per_s), there being no KV cache in nn.Module code of that era.
"""
import argparse
import collections
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "pytorch"))
from char_gpt import CharGpt, load_byte_corpus, random_windows  # noqa: E402  (examples/char_gpt.cc's twin)
from fashion_resnet import resnet8  # noqa: E402  (examples/fashion_resnet.cc's twin)

WARMUP = 10
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530


class LstmLm(nn.Module):
    def __init__(self, vocab, embedding=128, hidden=256, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        return self.head(self.lstm(self.embedding(tokens))[0])


def read_idx(path):
    import gzip
    data = gzip.open(path, "rb").read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def train(step, steps, per_step, figure):
    last = collections.deque(maxlen=10)
    for i in range(WARMUP + steps):
        if i == WARMUP:
            start = time.perf_counter()
        last.append(step())
    rate = steps * per_step / (time.perf_counter() - start)
    print(f"{figure} {rate:.1f}\nloss_after_{WARMUP + steps}_steps {sum(last) / len(last):.4f}")


def rate_of(run, calls, units):
    run()
    start = time.perf_counter()
    for _ in range(calls):
        run()
    return calls * units / (time.perf_counter() - start)


def step_on(model, optimizer, x, y):
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    optimizer.step()
    return loss.item()


def run_language_model(args, gpt):
    tokens, vocab = load_byte_corpus(args.corpus_dir)
    batch, context = 32, (128 if gpt else 64)
    if gpt:
        model = CharGpt(vocab)
        optimizer = torch.optim.AdamW(model.parameters(), 3e-4, weight_decay=0.1)
    else:
        model = LstmLm(vocab)
        optimizer = torch.optim.Adam(model.parameters(), 2e-3)
    train(lambda: step_on(model, optimizer, *random_windows(tokens, batch, context)), args.steps, batch * context,
          "train_tokens_per_s")
    model.eval()
    x = random_windows(tokens, batch, context)[0]
    with torch.inference_mode():
        print(f"infer_tokens_per_s {rate_of(lambda: model(x), 5, batch * context):.1f}")
    if gpt:
        prompt = tokens[:16].tolist()
        print(f"generate_tokens_per_s {rate_of(lambda: model.generate(prompt, args.generate), 1, args.generate):.1f}")


def run_resnet(args):
    def load(prefix):
        images = torch.from_numpy(read_idx(f"{args.fmnist_dir}/{prefix}-images-idx3-ubyte.gz").copy())
        labels = torch.from_numpy(read_idx(f"{args.fmnist_dir}/{prefix}-labels-idx1-ubyte.gz").astype(np.int64))
        return ((images.float() / 255 - FMNIST_MEAN) / FMNIST_STD).unsqueeze(1), labels

    train_x, train_y = load("train")
    test_x, _ = load("t10k")
    model = resnet8()
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    optimizer = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batch = 128
    state = {"order": torch.randperm(len(train_x)), "at": 0}

    def step():
        if state["at"] + batch > len(train_x):
            state["order"], state["at"] = torch.randperm(len(train_x)), 0
        idx = state["order"][state["at"]:state["at"] + batch]
        state["at"] += batch
        return step_on(model, optimizer, train_x[idx].contiguous(memory_format=fmt), train_y[idx])

    train(step, args.steps, batch, "train_images_per_s")
    model.eval()
    batches = [b.contiguous(memory_format=fmt) for b in torch.split(test_x, 128)]
    with torch.inference_mode():
        print(f"infer_images_per_s {rate_of(lambda: [model(b) for b in batches], 1, len(test_x)):.1f}")
    # The frozen, fused model (conv-bn folding, oneDNN layouts), as tapegrad's optimize_for_inference.
    with torch.no_grad():
        frozen = torch.jit.optimize_for_inference(torch.jit.trace(model, batches[0]))
        print(f"infer_optimized_images_per_s {rate_of(lambda: [frozen(b) for b in batches], 1, len(test_x)):.1f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="char_gpt", choices=["char_gpt", "lstm_lm", "resnet_fmnist"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--channels_last", action="store_true", help="resnet_fmnist: model and images in channels-last memory format")
    p.add_argument("--corpus_dir", default="/usr/share/games/fortunes")
    p.add_argument("--fmnist_dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--generate", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.workload == "resnet_fmnist":
        run_resnet(args)
    else:
        run_language_model(args, args.workload == "char_gpt")
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""tapegrad/bench/pytorch_workload_throughput.py: the workloads of bench/workload_throughput.cc
in Debian's PyTorch (python3-torch), same models, data, optimizers, batch sizes and
measurements, printing the same lines:
    /usr/bin/python3 bench/pytorch_workload_throughput.py --workload=char_gpt --steps=20 --threads=2
PyTorch 1.13 has no fused attention, so char_gpt's attention is the textbook masked softmax (as
minGPT/nanoGPT wrote it for that version); generation is the naive loop over the last `context`
tokens (generate_tokens_per_s), there being no KV cache in nn.Module code of that era.
"""
import argparse
import collections
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WARMUP = 10
FMNIST_MEAN, FMNIST_STD = 0.2860, 0.3530


def load_byte_corpus(directory):
    names = sorted(n for n in os.listdir(directory)
                   if not n.endswith(".dat") and not os.path.islink(os.path.join(directory, n))
                   and os.path.isfile(os.path.join(directory, n)))
    data = b"".join(open(os.path.join(directory, n), "rb").read() for n in names)
    vocabulary = sorted(set(data))
    ids = np.zeros(256, dtype=np.int64)
    ids[vocabulary] = np.arange(len(vocabulary))
    return torch.from_numpy(ids[np.frombuffer(data, dtype=np.uint8)]), len(vocabulary)


def random_windows(tokens, batch, context):
    starts = torch.randint(0, len(tokens) - context - 1, (batch,))
    x = torch.stack([tokens[s:s + context] for s in starts.tolist()])
    y = torch.stack([tokens[s + 1:s + context + 1] for s in starts.tolist()])
    return x, y


class Block(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        s = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        s = s.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf"))
        a = torch.softmax(s, -1) @ v
        h = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h))))


class CharGpt(nn.Module):
    def __init__(self, vocab, context=128, d=128, heads=4, layers=4, mlp=512):
        super().__init__()
        self.context = context
        self.token_embedding, self.position_embedding = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.Sequential(*[Block(d, heads, mlp) for _ in range(layers)])
        self.ln_f, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, tokens):
        x = self.token_embedding(tokens) + self.position_embedding(torch.arange(tokens.shape[1]))
        return self.head(self.ln_f(self.blocks(x)))

    @torch.no_grad()
    def generate(self, prompt, n):
        seq = list(prompt)
        for _ in range(n):
            window = torch.tensor([seq[-self.context:]])
            seq.append(int(self(window)[0, -1].argmax()))
        return seq[len(prompt):]


class LstmLm(nn.Module):
    def __init__(self, vocab, embedding=128, hidden=256, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        return self.head(self.lstm(self.embedding(tokens))[0])


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


def resnet8(cin=1, classes=10):
    return nn.Sequential(nn.Conv2d(cin, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, classes))


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
    optimizer = torch.optim.SGD(model.parameters(), 0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    batch = 128
    state = {"order": torch.randperm(len(train_x)), "at": 0}

    def step():
        if state["at"] + batch > len(train_x):
            state["order"], state["at"] = torch.randperm(len(train_x)), 0
        idx = state["order"][state["at"]:state["at"] + batch]
        state["at"] += batch
        return step_on(model, optimizer, train_x[idx], train_y[idx])

    train(step, args.steps, batch, "train_images_per_s")
    model.eval()
    batches = list(torch.split(test_x, 128))
    with torch.inference_mode():
        print(f"infer_images_per_s {rate_of(lambda: [model(b) for b in batches], 1, len(test_x)):.1f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="char_gpt", choices=["char_gpt", "lstm_lm", "resnet_fmnist"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
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

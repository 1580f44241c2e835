#!/usr/bin/env python3
"""tapegrad/examples/pytorch/char_gpt.py: examples/char_gpt.cc's recipe in PyTorch: the same
decoder-only transformer (examples/char_gpt_model.h: pre-LayerNorm blocks, causal attention, GELU
MLP, learned positions; d_model 128, 4 heads, 4 blocks, MLP 512, context 128), the bytes of
Debian's fortunes read and split as io/text_corpus does (files in name order, the last 10 % held
out), AdamW 1e-3 weight decay 0.1, gradient norm clipped at 1, batch 32 random windows, the
validation loss over the first 200 consecutive windows of 128 bytes after each epoch of 200 steps;
printed in char_gpt.cc's format:
  epoch E train_loss X validation_loss Y validation_bits_per_byte Z seconds S
PyTorch 1.13 has no fused attention, so attention is the textbook masked softmax (as
minGPT/nanoGPT wrote it for that version). bench/pytorch_workload_throughput.py uses this model.
Run with Debian's PyTorch: /usr/bin/python3 examples/pytorch/char_gpt.py --epochs=5
"""
import argparse
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def load_byte_corpus(path):
    """(token ids of every byte, vocabulary size): a file, or a folder's regular files in name order
    (no symlinks, hidden files or .dat indexes); ids index the distinct bytes in ascending order."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path)
                       if not n.startswith(".") and not n.endswith(".dat")
                       and not os.path.islink(os.path.join(path, n)) and os.path.isfile(os.path.join(path, n)))
        data = b"".join(open(os.path.join(path, n), "rb").read() for n in names)
    else:
        data = open(path, "rb").read()
    vocabulary = sorted(set(data))
    ids = np.zeros(256, dtype=np.int64)
    ids[vocabulary] = np.arange(len(vocabulary))
    return torch.from_numpy(ids[np.frombuffer(data, dtype=np.uint8)]), len(vocabulary)


def split(tokens, validation_fraction=0.1):
    """(train, validation): the last floor(n * fraction) tokens held out."""
    cut = len(tokens) - math.floor(len(tokens) * validation_fraction)
    return tokens[:cut], tokens[cut:]


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
    def generate(self, prompt, n, temperature=0.0, top_k=0):
        """n tokens after prompt, re-running the last `context` tokens each step; greedy at
        temperature 0, else sampled from softmax(logits / temperature) among the top_k."""
        seq = list(prompt)
        for _ in range(n):
            logits = self(torch.tensor([seq[-self.context:]]))[0, -1]
            if temperature == 0:
                seq.append(int(logits.argmax()))
                continue
            logits = logits / temperature
            if 0 < top_k < len(logits):
                logits = logits.masked_fill(logits < logits.topk(top_k).values[-1], float("-inf"))
            seq.append(int(torch.multinomial(torch.softmax(logits, 0), 1)))
        return seq[len(prompt):]


def next_token_loss(model, tokens, context, max_windows):
    """Mean cross-entropy (nats per token) over consecutive windows, as io::next_token_loss."""
    windows = min((len(tokens) - 1) // context, max_windows) if max_windows else (len(tokens) - 1) // context
    model.eval()
    nats = 0.0
    with torch.no_grad():
        for first in range(0, windows, 64):
            n = min(64, windows - first)
            x = tokens[first * context:(first + n) * context].view(n, context)
            y = tokens[first * context + 1:(first + n) * context + 1].view(n, context)
            logits = model(x)
            nats += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item() * n * context
    model.train()
    return nats / (windows * context)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/usr/share/games/fortunes")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps_per_epoch", type=int, default=200)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight_decay", type=float, default=0.1)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--validation_windows", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tokens, vocab = load_byte_corpus(a.data)
    train, validation = split(tokens)
    model = CharGpt(vocab, context=a.context)
    opt = torch.optim.AdamW(model.parameters(), a.lr, weight_decay=a.weight_decay)
    for epoch in range(1, a.epochs + 1):
        start = time.time()
        model.train()
        total = 0.0
        for _ in range(a.steps_per_epoch):
            x, y = random_windows(train, a.batch_size, a.context)
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            total += loss.item()
        v = next_token_loss(model, validation, a.context, a.validation_windows)
        print(f"epoch {epoch} train_loss {total / a.steps_per_epoch:.4f} validation_loss {v:.4f} "
              f"validation_bits_per_byte {v / math.log(2):.4f} seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

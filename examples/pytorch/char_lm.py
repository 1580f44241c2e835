#!/usr/bin/env python3
"""tapegrad/examples/pytorch/char_lm.py: examples/char_lm.cc's recipe in PyTorch (pytorch/examples'
word_language_model on bytes): Embedding 128 -> 2-layer LSTM or GRU 256 (dropout 0.1 between
layers and around) -> Linear, or a causal pre-LayerNorm transformer (width 256, 4 heads, GELU,
learned positions), Adam 2e-3, gradient norm clipped at 1, batch 32 random windows of 64 bytes of
Debian's fortunes (read and split as io/text_corpus does), validation bits per byte over the first
400 consecutive windows after each epoch of 200 steps; printed in char_lm.cc's format:
  epoch E train_loss X validation_bits_per_byte Y seconds Z
Run with Debian's PyTorch: /usr/bin/python3 examples/pytorch/char_lm.py --model=lstm --epochs=5
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn
from char_gpt import load_byte_corpus, next_token_loss, random_windows, split


class CharModel(nn.Module):
    def __init__(self, kind, vocab, context, embedding, hidden, layers, dropout):
        super().__init__()
        self.kind = kind
        self.drop = nn.Dropout(dropout)
        if kind == "transformer":
            self.embed = nn.Embedding(vocab, hidden)
            self.position = nn.Parameter(torch.randn(context, hidden) * 0.02)
            layer = nn.TransformerEncoderLayer(hidden, max(1, hidden // 64), 4 * hidden, dropout, "gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(hidden))
        else:
            self.embed = nn.Embedding(vocab, embedding)
            rnn = nn.LSTM if kind == "lstm" else nn.GRU
            self.rnn = rnn(embedding, hidden, layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids):
        x = self.embed(ids)
        if self.kind == "transformer":
            t = ids.shape[1]
            mask = torch.triu(torch.full((t, t), float("-inf")), 1)
            x = self.encoder(self.drop(x + self.position[:t]), mask=mask)
        else:
            x = self.drop(self.rnn(self.drop(x))[0])
        return self.head(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/usr/share/games/fortunes")
    p.add_argument("--model", default="lstm", choices=["lstm", "gru", "transformer"])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--steps_per_epoch", type=int, default=200)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--embedding", type=int, default=128)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--validation_windows", type=int, default=400)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tokens, vocab = load_byte_corpus(a.data)
    train, validation = split(tokens)
    model = CharModel(a.model, vocab, a.context, a.embedding, a.hidden, a.layers, a.dropout)
    opt = torch.optim.Adam(model.parameters(), a.lr)
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
        bits = next_token_loss(model, validation, a.context, a.validation_windows) / math.log(2)
        print(f"epoch {epoch} train_loss {total / a.steps_per_epoch:.4f} validation_bits_per_byte {bits:.4f} "
              f"seconds {time.time() - start:.1f}", flush=True)


if __name__ == "__main__":
    main()

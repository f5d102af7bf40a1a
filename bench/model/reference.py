#!/usr/bin/env python3
"""PyTorch reference of the Recsys sequence model, for speed comparisons on the same machine.

The same architecture as src/Recsys.Model: item embeddings scaled by sqrt(d) plus learned positions, pre-LN
causal Transformer blocks (1 head, GELU tanh feed-forward of width d), a final layer norm, scores h . e_item.
Run with Debian's PyTorch (apt-get install python3-torch libopenblas0-pthread), never a runtime dependency:

    /usr/bin/python3 bench/model/reference.py inference            # sequences/s at batch 1 and 256, length 50 and 200
    /usr/bin/python3 bench/model/reference.py train ../shared/data/amazon-games/Video.txt   # seconds per epoch (BCE)
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-8)
        self.attention = nn.MultiheadAttention(d, heads, dropout=0.0, batch_first=True)
        self.ln2 = nn.LayerNorm(d, eps=1e-8)
        self.inner = nn.Linear(d, d)
        self.outer = nn.Linear(d, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, causal_mask, padding_mask):
        a = self.ln1(x)
        attended, _ = self.attention(a, a, a, attn_mask=causal_mask, key_padding_mask=padding_mask, need_weights=False)
        x = x + self.dropout(attended)
        f = self.outer(self.dropout(F.gelu(self.inner(self.ln2(x)), approximate="tanh")))
        return x + self.dropout(f)


class SequenceModel(nn.Module):
    def __init__(self, items, max_length=50, d=64, blocks=2, heads=1, dropout=0.2):
        super().__init__()
        self.d = d
        self.items = nn.Embedding(items, d, padding_idx=0)
        self.positions = nn.Embedding(max_length, d)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d, heads, dropout) for _ in range(blocks)])
        self.final = nn.LayerNorm(d, eps=1e-8)

    def forward(self, sequences):  # left-padded with 0, as SASRec
        batch, length = sequences.shape
        positions = torch.arange(length, device=sequences.device).unsqueeze(0).expand(batch, length)
        x = self.items(sequences) * self.d ** 0.5 + self.positions(positions)
        x = self.dropout(x)
        causal = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
        padding = sequences == 0
        for block in self.blocks:
            x = block(x, causal, padding)
        return self.final(x)


def inference(args):
    torch.set_num_threads(args.threads)
    for length in (50, 200):
        model = SequenceModel(23716, max_length=length).eval()
        for batch in (1, 256):
            sequences = torch.randint(1, 23716, (batch, length))
            with torch.no_grad():
                for _ in range(3):
                    model(sequences)
                times = []
                repeats = 50 if batch == 1 else 5
                for _ in range(repeats):
                    start = time.perf_counter()
                    model(sequences)
                    times.append(time.perf_counter() - start)
            median = statistics.median(times)
            print(f"pytorch inference batch {batch:>3} length {length:>3}: {median * 1000:8.3f} ms per batch, {batch / median:10.0f} sequences/s")


def train(args):
    torch.set_num_threads(args.threads)
    users = {}
    with open(args.data) as f:
        for line in f:
            user, item = line.split()
            users.setdefault(user, []).append(int(item))
    items = max(max(s) for s in users.values()) + 1
    sequences = [s[:-2] for s in users.values() if len(s) >= 3] + [s for s in users.values() if len(s) < 3]
    sequences = [s for s in sequences if len(s) >= 2]
    model = SequenceModel(items, max_length=50)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98))
    model.train()
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(sequences)).tolist()
        for b in range(0, len(order), 128):
            chunk = [sequences[i][-51:] for i in order[b:b + 128]]
            inputs = torch.zeros(len(chunk), 50, dtype=torch.long)
            targets = torch.zeros(len(chunk), 50, dtype=torch.long)
            for row, s in enumerate(chunk):
                inputs[row, 50 - (len(s) - 1):] = torch.tensor(s[:-1])
                targets[row, 50 - (len(s) - 1):] = torch.tensor(s[1:])
            negatives = torch.randint(1, items, targets.shape)
            hidden = model(inputs)
            positive = (hidden * model.items(targets)).sum(-1)
            negative = (hidden * model.items(negatives)).sum(-1)
            mask = targets != 0
            loss = (F.softplus(-positive)[mask].sum() + F.softplus(negative)[mask].sum()) / mask.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f"pytorch training epoch {epoch + 1}: {time.perf_counter() - start:.1f} s (BCE, batch 128, length 50, padded as SASRec)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["inference", "train"])
    parser.add_argument("data", nargs="?")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    arguments = parser.parse_args()
    inference(arguments) if arguments.mode == "inference" else train(arguments)

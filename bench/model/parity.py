#!/usr/bin/env python3
"""Numerical parity of the C# model with a PyTorch implementation of the same architecture.

Loads a checkpoint written by `recsys train` (format: src/Recsys.Model/Checkpoint.cs), runs the users' whole
histories through PyTorch, and compares each user's top-10 (seen items excluded) and scores with what
`recsys recommend` printed for the same checkpoint and data:

    dotnet run --project src/Recsys.Cli -c Release -- recommend --model M --data D --format Sasrec --users 200 > csharp.jsonl
    /usr/bin/python3 bench/model/parity.py M D csharp.jsonl
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F


def read_checkpoint(path):
    data = open(path, "rb").read()
    position = 0

    def take(n):
        nonlocal position
        chunk = data[position:position + n]
        position += n
        return chunk

    def int32():
        return struct.unpack("<i", take(4))[0]

    def string():  # .NET BinaryWriter: 7-bit encoded length, then UTF-8
        length, shift = 0, 0
        while True:
            byte = take(1)[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        return take(length).decode("utf-8")

    assert take(4) == b"RSCK", "not a Recsys checkpoint"
    assert int32() == 1, "unsupported checkpoint version"
    config = json.loads(string())
    string()  # metadata
    items = [string() for _ in range(int32())]
    weights = {}
    for _ in range(int32()):
        name = string()
        rows, cols = int32(), int32()
        weights[name] = torch.frombuffer(bytearray(take(4 * rows * cols)), dtype=torch.float32).reshape(rows, cols)
    return config, items, weights


def encode(config, weights, sequence):
    d, heads, length = config["dim"], config["heads"], config["maxLength"]
    sequence = sequence[-length:]
    positions = torch.arange(length - len(sequence), length)
    x = weights["items"][sequence] * math.sqrt(d) + weights["positions"][positions]
    head_dim = d // heads
    causal = torch.triu(torch.ones(len(sequence), len(sequence), dtype=torch.bool), diagonal=1)

    def layer_norm(v, name):
        return F.layer_norm(v, (d,), weights[name + ".gain"][0], weights[name + ".shift"][0], eps=1e-8)

    def linear(v, name):
        return v @ weights[name + ".weight"] + weights[name + ".bias"][0]

    for b in range(config["blocks"]):
        qkv = linear(layer_norm(x, f"block{b}.ln1"), f"block{b}.attention.qkv")
        context = []
        for h in range(heads):
            q = qkv[:, h * head_dim:(h + 1) * head_dim]
            k = qkv[:, d + h * head_dim:d + (h + 1) * head_dim]
            v = qkv[:, 2 * d + h * head_dim:2 * d + (h + 1) * head_dim]
            scores = (q @ k.T) / math.sqrt(head_dim)
            context.append(torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v)
        x = x + linear(torch.cat(context, dim=-1), f"block{b}.attention.out")
        hidden = F.gelu(linear(layer_norm(x, f"block{b}.ln2"), f"block{b}.ffn.inner"), approximate="tanh")
        x = x + linear(hidden, f"block{b}.ffn.outer")
    return layer_norm(x, "final")[-1]


def main():
    checkpoint, data_path, csharp_path = sys.argv[1:4]
    config, items, weights = read_checkpoint(checkpoint)
    index = {item: i for i, item in enumerate(items)}
    histories = {}
    for line in open(data_path):
        user, item = line.split()
        histories.setdefault(user, []).append(index.get(item, 0))
    same_top10, compared, worst = 0, 0, 0.0
    with torch.no_grad():
        for line in open(csharp_path):
            expected = json.loads(line)
            history = histories[expected["userId"]]
            scores = weights["items"] @ encode(config, weights, history)
            scores[0] = float("-inf")
            scores[history] = float("-inf")
            top = torch.topk(scores, len(expected["items"]))
            ours = [items[i] for i in top.indices.tolist()]
            theirs = [e["itemId"] for e in expected["items"]]
            same_top10 += ours == theirs
            compared += 1
            for e in expected["items"]:
                worst = max(worst, abs(scores[index[e["itemId"]]].item() - e["score"]))
    print(f"{compared} users: identical top-10 for {same_top10}; largest score difference {worst:.2e}")


if __name__ == "__main__":
    main()

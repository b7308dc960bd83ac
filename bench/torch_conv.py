"""PyTorch side of conv.mjs: conv2d forward+backward, input 4x64x128x128, weight 64x64x3x3,
padding 1, with bias. Reads 'THREADS WARMUP ITERS' lines on stdin; answers each with one JSON
line holding every timed iteration in ms."""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_common import info

torch.manual_seed(0)
x = torch.randn(4, 64, 128, 128)
w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()
b = torch.zeros(64).requires_grad_()


def step():
    out = F.conv2d(x, w, b, padding=1)
    out.sum().backward()
    w.grad = None
    b.grad = None


for line in sys.stdin:
    threads, warmup, iters = (int(v) for v in line.split())
    torch.set_num_threads(threads)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter_ns()
        step()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    print(json.dumps({"info": info(), "ms": times}), flush=True)

"""conv2d forward+backward, input 4x64x128x128, weight 64x64x3x3, padding 1, with bias.
Usage: torch_conv.py THREADS WARMUP ITERS  -> prints one JSON line with the best iteration in ms."""
import json
import sys
import time

import torch
import torch.nn.functional as F

from torch_common import info

threads, warmup, iters = (int(x) for x in sys.argv[1:4])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(4, 64, 128, 128)
w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()
b = torch.zeros(64).requires_grad_()


def step():
    out = F.conv2d(x, w, b, padding=1)
    out.sum().backward()
    w.grad = None
    b.grad = None


for _ in range(warmup):
    step()
best = float("inf")
for _ in range(iters):
    t0 = time.perf_counter_ns()
    step()
    best = min(best, time.perf_counter_ns() - t0)
print(json.dumps({"info": info(), "threads": torch.get_num_threads(), "ms": best / 1e6}))

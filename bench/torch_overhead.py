"""PyTorch side of overhead.mjs: torch.add on 1x1 float32 tensors, the result freed by refcount.
Reads 'THREADS CALLS REPS' lines on stdin; answers each with one JSON line: for each form, the
best of REPS runs of CALLS calls (after one warm-up run), in ns/call."""
import json
import sys
import time

import torch

from torch_common import info

a = torch.ones(1, 1)
b = torch.ones(1, 1)


def fn_add(calls):
    for _ in range(calls):
        torch.add(a, b)


def method_add(calls):
    for _ in range(calls):
        a.add(b)


def best_ns(fn, calls, reps):
    fn(calls)  # warm-up
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn(calls)
        best = min(best, time.perf_counter_ns() - t0)
    return best / calls


for line in sys.stdin:
    threads, calls, reps = (int(v) for v in line.split())
    torch.set_num_threads(threads)
    ns = {"torch.add(a, b)": best_ns(fn_add, calls, reps), "a.add(b)": best_ns(method_add, calls, reps)}
    print(json.dumps({"info": info(), "ns": ns}), flush=True)

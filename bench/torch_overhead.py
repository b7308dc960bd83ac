"""Per-call overhead of torch.add on 1x1 float32 tensors: best of REPS runs of CALLS calls, ns/call.
Usage: torch_overhead.py THREADS CALLS REPS  -> prints one JSON line."""
import json
import sys
import time

import torch

from torch_common import info

threads, calls, reps = (int(x) for x in sys.argv[1:4])
torch.set_num_threads(threads)
a = torch.ones(1, 1)
b = torch.ones(1, 1)


def fn_add():
    for _ in range(calls):
        torch.add(a, b)  # freed by refcount when the next result replaces it


def method_add():
    for _ in range(calls):
        a.add(b)


def best_ns(fn):
    fn()  # warm-up
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        best = min(best, time.perf_counter_ns() - t0)
    return best / calls


out = {"torch.add(a, b)": best_ns(fn_add), "a.add(b)": best_ns(method_add)}
print(json.dumps({"info": info(), "threads": torch.get_num_threads(), "ns": out}))

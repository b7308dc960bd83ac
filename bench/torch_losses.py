"""PyTorch side of losses.mjs: smp's own loss classes (segmentation_models_pytorch/losses at
commit 5006616, imported by path from SMP_SRC, default /tmp/smp-losses; see
scripts/fixtures/make_loss_fixtures.py for how to extract it). Reads one JSON request per line
on stdin ({"threads", "case": {"cls", "mode", "options", "shape", "target"}, "reps"}) and
answers each with one JSON line: the best of `reps` timed forward+backward calls after one
warm-up call, in ms, and the loss value."""
import importlib.util
import json
import math
import os
import sys
import time

import torch

from torch_common import info

LOSSES_DIR = os.path.join(os.environ.get('SMP_SRC', '/tmp/smp-losses'), 'segmentation_models_pytorch', 'losses')
spec = importlib.util.spec_from_file_location('smp_losses', os.path.join(LOSSES_DIR, '__init__.py'), submodule_search_locations=[LOSSES_DIR])
smp = importlib.util.module_from_spec(spec)
sys.modules['smp_losses'] = smp
spec.loader.exec_module(smp)


def inputs(shape, target):
    """The same tensors as losses.mjs makes: libtorch's generator, seeded alike, in the same order."""
    torch.manual_seed(0)
    x = torch.randn(shape)
    if target == 'binary-probs':
        x = x.sigmoid()
    n, c, h, w = shape
    if target == 'multiclass':
        y = torch.randint(0, c, (n, h, w))
    else:
        y = (torch.rand(shape) < 0.3).float()
    return x, y


def best_ms(loss, x, y, reps):
    def once():
        p = x.detach().requires_grad_()
        loss(p, y).backward()

    once()
    best = float('inf')
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        once()
        best = min(best, time.perf_counter_ns() - t0)
    return best / 1e6


for line in sys.stdin:
    req = json.loads(line)
    torch.set_num_threads(req['threads'])
    c = req['case']
    cls = getattr(smp, c['cls'])
    loss = cls(c['mode'], **c['options']) if c['mode'] else cls(**c['options'])
    x, y = inputs(c['shape'], c['target'])
    value = loss(x, y).item()
    # JSON has no NaN: a non-finite loss travels as null (and shows in the table as such).
    print(json.dumps({'info': info(), 'ms': best_ms(loss, x, y, req['reps']), 'value': value if math.isfinite(value) else None}), flush=True)
